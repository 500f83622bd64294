//! Webhooks: subscriptions that have the feed's events POSTed to a URL, and their delivery log.
//!
//! - `webhook_subscriptions`: one row per subscription: where to POST (`url`), which events
//!   (`types`: the patterns joined by `,`, which no pattern contains), the signing secret, the
//!   feed's head when it was made (`start_sequence`) and how far its relay has taken the feed
//!   (`position`, moved by compare-and-swap together with the deliveries it records, so that
//!   two processes never record one page twice).
//! - `webhook_deliveries`: one row per event for one subscription, from the moment the relay
//!   takes it off the feed until the receiver accepts it or the retries run out; the rows are
//!   the delivery log. Ids grow with insertion, so a subscription's deliveries are in feed
//!   order by id. Unique per (subscription, event): an event is recorded once per subscription.
//!   No foreign key to the subscription (SQLite would not enforce it without a pragma): the
//!   adapter deletes a subscription's deliveries with it, in one transaction.

use sea_orm_migration::prelude::*;

use crate::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(WebhookSubscriptions::Table)
                    .col(ColumnDef::new(WebhookSubscriptions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(WebhookSubscriptions::Url).string_len(2000).not_null())
                    // The type patterns (`order.paid`, `stock.*`) joined by `,`.
                    .col(ColumnDef::new(WebhookSubscriptions::Types).string_len(2000).not_null())
                    // `whsec_` and the base64 of at most 64 bytes.
                    .col(ColumnDef::new(WebhookSubscriptions::Secret).string_len(200).not_null())
                    .col(instant(manager, WebhookSubscriptions::CreatedAt).not_null())
                    // The feed's head at creation: the subscription receives the events after it.
                    .col(
                        ColumnDef::new(WebhookSubscriptions::StartSequence)
                            .big_integer()
                            .not_null(),
                    )
                    // The last sequence its relay took off the feed; starts at `start_sequence`.
                    .col(ColumnDef::new(WebhookSubscriptions::Position).big_integer().not_null())
                    .to_owned(),
            ))
            .await?;
        manager
            .create_table(crate::same_strings_everywhere(
                manager,
                Table::create()
                    .table(WebhookDeliveries::Table)
                    // A sequence, as the ledger's: the deliveries of one page are inserted in
                    // feed order, so ids ascend in feed order, and the log pages by id.
                    .col(
                        ColumnDef::new(WebhookDeliveries::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::SubscriptionId).uuid().not_null())
                    .col(ColumnDef::new(WebhookDeliveries::EventId).string_len(200).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::EventType).string_len(40).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Sequence).big_integer().not_null())
                    .col(instant(manager, WebhookDeliveries::OccurredAt).not_null())
                    // The product or order the event is about: deliveries of one subject go in
                    // feed order.
                    .col(ColumnDef::new(WebhookDeliveries::Subject).uuid().not_null())
                    // The body POSTed, rendered when the event was taken off the feed.
                    .col(ColumnDef::new(WebhookDeliveries::Payload).text().not_null())
                    // `pending`, `delivered` or `failed`.
                    .col(ColumnDef::new(WebhookDeliveries::Status).string_len(16).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Attempts).integer().not_null())
                    .col(instant(manager, WebhookDeliveries::NextAttemptAt).null())
                    .col(instant(manager, WebhookDeliveries::LastAttemptAt).null())
                    .col(ColumnDef::new(WebhookDeliveries::ResponseStatus).integer().null())
                    .col(ColumnDef::new(WebhookDeliveries::LastError).string_len(600).null())
                    .col(instant(manager, WebhookDeliveries::CreatedAt).not_null())
                    .col(instant(manager, WebhookDeliveries::DeliveredAt).null())
                    .to_owned(),
            ))
            .await?;
        // An event is recorded once per subscription.
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_deliveries_subscription_id_event_id")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::SubscriptionId)
                    .col(WebhookDeliveries::EventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What is due: "is there an earlier pending or failed delivery of this subject?" is one
        // range probe (equality on the first three columns, then `id <`).
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_subscription_id_status_subject_id")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::SubscriptionId)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::Subject)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        // The delivery log, newest first, paged by `id <`.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_subscription_id_id")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::SubscriptionId)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        // Retention: delivered deliveries older than the cut.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_status_delivered_at")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::DeliveredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(WebhookSubscriptions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum WebhookSubscriptions {
    Table,
    Id,
    Url,
    Types,
    Secret,
    CreatedAt,
    StartSequence,
    Position,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    SubscriptionId,
    EventId,
    EventType,
    Sequence,
    OccurredAt,
    Subject,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    ResponseStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}

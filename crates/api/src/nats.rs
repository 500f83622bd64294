//! The NATS JetStream sink of the event relay (`--nats-url`): each event, as the feed renders
//! it, published on `<prefix>.<type>.<subject id>` (`checkout.order.paid.<order id>`) with
//! `Nats-Msg-Id` set to the event's id, so that JetStream drops a page the relay sends again
//! after a failure or a takeover (within the stream's duplicate window).

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use async_trait::async_trait;
use domain::event::Event;
use domain::ports::{BoxError, EventSink};

use crate::wire::CloudEvent;

/// Where and how events go.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// The server, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// The stream's name, created when missing.
    pub stream: String,
    /// The first token of every subject; the stream takes `<prefix>.>`.
    pub subject_prefix: String,
}

/// How long JetStream remembers a message id: longer than a relay takeover (one lease term)
/// plus a page's retries, so a page sent twice is stored once.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// [`EventSink`] over JetStream.
pub struct NatsSink {
    jetstream: jetstream::Context,
    prefix: String,
}

impl NatsSink {
    /// Connects and makes sure the stream exists (creating it with the subjects
    /// `<prefix>.>` when missing; an existing stream is used as it is).
    ///
    /// # Errors
    /// When the server cannot be reached or refuses the stream.
    pub async fn connect(settings: &NatsSettings) -> Result<Self, BoxError> {
        let client = async_nats::connect(settings.url.as_str()).await?;
        let jetstream = jetstream::new(client);
        jetstream
            .get_or_create_stream(stream::Config {
                name: settings.stream.clone(),
                subjects: vec![format!("{}.>", settings.subject_prefix)],
                duplicate_window: DUPLICATE_WINDOW,
                ..stream::Config::default()
            })
            .await?;
        Ok(Self { jetstream, prefix: settings.subject_prefix.clone() })
    }
}

/// The subject of `event` under `prefix`.
pub fn subject(prefix: &str, event: &CloudEvent) -> String {
    format!("{prefix}.{}.{}", event.event_type, event.subject)
}

#[async_trait]
impl EventSink for NatsSink {
    async fn publish(&self, events: &[Event]) -> Result<(), BoxError> {
        // Sent one after the other without waiting, then every acknowledgement awaited: one
        // round trip for the page instead of one per event; JetStream stores them in order.
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let event = CloudEvent::new(event);
            let body = serde_json::to_vec(&event)?;
            let message = PublishMessage::build().payload(body.into()).message_id(&event.id);
            acks.push(self.jetstream.send_publish(subject(&self.prefix, &event), message).await?);
        }
        for ack in acks {
            ack.await?;
        }
        Ok(())
    }
}

//! `GET /v1/events`: the event feed.

use std::time::{Duration, Instant};

use application::events::{EventRequest, Events};
use axum::extract::State;
use axum::{Extension, Json};
use domain::event::Sequence;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::extract::ValidQuery;
use crate::middleware::Deadline;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{CloudEvent, EventsPage, Validator};

/// Where to read from, how much, and how long to wait.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The last sequence already read (`next` of the previous page); default 0, the beginning.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Sequences per page, 1 to 1000; default 100 (a `stock.low`, `stock.out` or `stock.back_in` shares its
    /// change's sequence, so a page may hold a few more events).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Seconds to wait for the first new event when there is none yet (a long poll), 0 to 30;
    /// default 0 (answer at once). Cut to `--events-max-wait` and the request timeout.
    #[param(minimum = 0, maximum = 30)]
    wait: Option<u32>,
}

/// Every stock movement, order transition and product creation, as CloudEvents 1.0, in the
/// order they committed (scope `events:read`). Follow `next`: a reader that does never misses
/// an event, whichever server process made it. The feed begins with the schema that
/// introduced it: changes made before carry no sequence.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(EventsQuery),
    responses(
        (status = 200, body = EventsPage),
        (status = 410, description = "cursor-expired: the events after `after` were purged; `earliest` says where the feed begins"),
        (status = 422, description = "invalid-request (after, limit or wait)"),
    ))]
pub async fn events(
    State(state): State<AppState>,
    deadline: Option<Extension<Deadline>>,
    ValidQuery(query): ValidQuery<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let mut v = Validator::default();
    let after =
        v.check("after", Sequence::new(query.after.unwrap_or(0)).ok_or("a sequence: 0 or more"));
    let limit = v.check(
        "limit",
        Some(query.limit.unwrap_or(100))
            .filter(|n| (1..=Events::MAX_LIMIT).contains(n))
            .ok_or("1 to 1000"),
    );
    let max_wait = Events::MAX_WAIT.as_secs();
    let wait = v.check(
        "wait",
        Some(u64::from(query.wait.unwrap_or(0)))
            .filter(|s| *s <= max_wait)
            .ok_or("0 to 30 seconds"),
    );
    let ((after, limit), wait) = v.finish(after.zip(limit).zip(wait))?;
    // Answer an empty page before the request's deadline rather than a timeout.
    let until_deadline = deadline
        .map(|Extension(d)| d.commit.saturating_duration_since(Instant::now()))
        .unwrap_or(Duration::MAX);
    let wait = Duration::from_secs(wait).min(state.settings.events_max_wait).min(until_deadline);
    let page = state.services.events.read(EventRequest { after, limit, wait }).await?;
    Ok(Json(EventsPage {
        items: page.items.iter().map(CloudEvent::new).collect(),
        next: page.next.get(),
        earliest: page.earliest.get(),
    }))
}

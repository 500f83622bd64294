//! The relay: sends the event feed on to a message broker ([`EventSink`]), page by page, from
//! where the last relay of that name stopped, in one process at a time.
//!
//! One process leads (a named lease, see [`crate::leadership`]); it reads a page after the
//! stored position, waiting for new events when there are none, publishes it, and only then
//! moves the position. A process that dies between the two leaves the position behind, and
//! whoever leads next publishes that page again: at least once, never lost, with the events'
//! ids for the sink to drop repeats by. The position moves by compare-and-swap, so two
//! processes that both believed they led for a moment cannot move it backwards.

use std::sync::Arc;
use std::time::Duration;

use domain::event::Sequence;
use domain::ports::{BoxError, EventSink};

use crate::Ports;
use crate::events::{EventRequest, Events};
use crate::leadership::Leadership;

/// What one step of the relay did.
#[derive(Debug)]
pub enum RelayStep {
    /// Another process leads; nothing was read.
    NotLeading,
    /// Nothing new within the wait.
    Idle,
    /// `events` were published and the position moved to `next`. `oldest_age` is how long the
    /// oldest of them had been committed when it was published: the relay's lag.
    Sent {
        /// How many.
        events: usize,
        /// The new position.
        next: Sequence,
        /// The age of the page's first event when the page was stored by the sink.
        oldest_age: Duration,
    },
    /// The page was published but another process had moved the position meanwhile; it is
    /// read again from there.
    Overtaken,
    /// The store or the sink failed; the same page is tried again at the next step.
    Failed(BoxError),
}

/// One relay, by name (its lease and its position are named after it).
pub struct Relay {
    name: String,
    ports: Ports,
    events: Events,
    leadership: Leadership,
    sink: Arc<dyn EventSink>,
    page: u32,
}

impl Relay {
    /// Events per page: one publish round and one position write per page.
    pub const PAGE: u32 = 500;

    /// The relay `name` over `ports`, publishing to `sink`, leading while `leadership` holds.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        ports: &Ports,
        leadership: Leadership,
        sink: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            name: name.into(),
            ports: ports.clone(),
            events: Events::new(ports),
            leadership,
            sink,
            page: Self::PAGE,
        }
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The leadership it runs under (to step down when stopping).
    #[must_use]
    pub fn leadership(&self) -> &Leadership {
        &self.leadership
    }

    /// One step: renew the lease, read a page after the position (waiting up to `wait` for
    /// one), publish it, move the position.
    #[tracing::instrument(skip_all, fields(relay = %self.name))]
    pub async fn step(&self, wait: Duration) -> RelayStep {
        match self.leadership.try_lead().await {
            Ok(true) => {}
            Ok(false) => return RelayStep::NotLeading,
            Err(err) => return RelayStep::Failed(err.into()),
        }
        let position = match self.ports.cursors.position(&self.name).await {
            Ok(position) => position,
            Err(err) => return RelayStep::Failed(err.into()),
        };
        let request = EventRequest { after: position, limit: self.page, wait };
        let page = match self.events.read(request).await {
            Ok(page) if page.items.is_empty() => return RelayStep::Idle,
            Ok(page) => page,
            Err(err) => return RelayStep::Failed(err.into()),
        };
        if let Err(err) = self.sink.publish(&page.items).await {
            return RelayStep::Failed(err);
        }
        let oldest = page.items.first().map(|event| event.time);
        let oldest_age = oldest
            .and_then(|time| (self.ports.clock.now() - time).to_std().ok())
            .unwrap_or_default();
        match self.ports.cursors.advance(&self.name, position, page.next).await {
            Ok(true) => RelayStep::Sent { events: page.items.len(), next: page.next, oldest_age },
            Ok(false) => RelayStep::Overtaken,
            Err(err) => RelayStep::Failed(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use domain::event::{Event, EventBody};
    use domain::ports::{MockEventSink, StoreError};

    use super::*;
    use crate::test_support::{Mocks, product, t0};

    fn event(sequence: i64) -> Event {
        let product = product(1);
        Event {
            sequence: Sequence::new(sequence).unwrap(),
            time: t0() - TimeDelta::seconds(2),
            body: EventBody::Product(product),
        }
    }

    fn relay(mut mocks: Mocks, leading: bool, sink: MockEventSink) -> Relay {
        mocks.lease.expect_try_acquire().returning(move |_, _, _, _| Ok(leading));
        let ports = mocks.into_ports();
        let leadership = Leadership::new(ports.clone(), "relay:test", "me", TimeDelta::seconds(5));
        Relay::new("test", &ports, leadership, Arc::new(sink))
    }

    fn with_page(mocks: &mut Mocks, at: i64, events: Vec<Event>) {
        mocks.cursors.expect_position().returning(move |_| Ok(Sequence::new(at).unwrap()));
        let head = events.last().map_or(at, |e| e.sequence.get());
        mocks.events.expect_head().returning(move || Ok(Sequence::new(head).unwrap()));
        mocks.events.expect_after().times(1).returning(move |_, _| Ok(events.clone()));
        mocks.events.expect_purged_through().returning(|| Ok(Sequence::START));
    }

    #[tokio::test]
    async fn a_process_that_does_not_lead_reads_nothing() {
        let mocks = Mocks::new();
        let mut sink = MockEventSink::new();
        sink.expect_publish().never();
        assert!(matches!(
            relay(mocks, false, sink).step(Duration::ZERO).await,
            RelayStep::NotLeading
        ));
    }

    #[tokio::test]
    async fn a_page_is_published_then_the_position_moves_past_it() {
        let mut mocks = Mocks::new();
        with_page(&mut mocks, 3, vec![event(4), event(5)]);
        mocks
            .cursors
            .expect_advance()
            .withf(|name, from, to| name == "test" && from.get() == 3 && to.get() == 5)
            .times(1)
            .returning(|_, _, _| Ok(true));
        let mut sink = MockEventSink::new();
        sink.expect_publish().withf(|events| events.len() == 2).times(1).returning(|_| Ok(()));
        let step = relay(mocks, true, sink).step(Duration::ZERO).await;
        let RelayStep::Sent { events, next, oldest_age } = step else { panic!("{step:?}") };
        assert_eq!((events, next.get(), oldest_age), (2, 5, Duration::from_secs(2)));
    }

    #[tokio::test]
    async fn a_failed_publish_leaves_the_position_for_the_next_try() {
        let mut mocks = Mocks::new();
        with_page(&mut mocks, 0, vec![event(1)]);
        mocks.cursors.expect_advance().never();
        let mut sink = MockEventSink::new();
        sink.expect_publish().returning(|_| Err("broker down".into()));
        assert!(matches!(
            relay(mocks, true, sink).step(Duration::ZERO).await,
            RelayStep::Failed(_)
        ));
    }

    #[tokio::test]
    async fn a_position_moved_by_another_process_is_not_overwritten() {
        let mut mocks = Mocks::new();
        with_page(&mut mocks, 0, vec![event(1)]);
        mocks.cursors.expect_advance().returning(|_, _, _| Ok(false));
        let mut sink = MockEventSink::new();
        sink.expect_publish().returning(|_| Ok(()));
        assert!(matches!(
            relay(mocks, true, sink).step(Duration::ZERO).await,
            RelayStep::Overtaken
        ));
    }

    #[tokio::test]
    async fn nothing_new_is_idle() {
        let mut mocks = Mocks::new();
        with_page(&mut mocks, 7, Vec::new());
        let mut sink = MockEventSink::new();
        sink.expect_publish().never();
        assert!(matches!(relay(mocks, true, sink).step(Duration::ZERO).await, RelayStep::Idle));
    }

    #[tokio::test]
    async fn a_store_that_cannot_tell_the_position_fails_the_step() {
        let mut mocks = Mocks::new();
        mocks.cursors.expect_position().returning(|_| Err(StoreError::unavailable("down")));
        let sink = MockEventSink::new();
        assert!(matches!(
            relay(mocks, true, sink).step(Duration::ZERO).await,
            RelayStep::Failed(_)
        ));
    }
}

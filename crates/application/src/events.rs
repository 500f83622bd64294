//! Reading the event feed: a page of events after a position, waiting a while for new ones
//! when there are none yet (a long poll), so that a follower need not poll in a tight loop.

use std::sync::Arc;
use std::time::Duration;

use domain::event::{Event, Sequence};
use domain::ports::{BoxError, Clock, EventFeed, EventRetention, StoreError};

use crate::Ports;

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, in sequence order, without gaps from the position asked for.
    pub items: Vec<Event>,
    /// Where to continue: the last item's sequence, or the position asked for when there is
    /// none.
    pub next: Sequence,
    /// How far back the feed reaches: the first sequence it still holds (older events were
    /// purged by the retention).
    pub earliest: Sequence,
}

/// Why a page of the feed was not read.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The position asked for is before what the feed still holds: events after it were
    /// purged, so a page from there would miss them. Resume from `earliest` (or re-read the
    /// state the events describe).
    #[error("the feed no longer holds the events after this position; it begins at {earliest}")]
    CursorExpired {
        /// The first sequence the feed still holds.
        earliest: Sequence,
    },
    /// The store failed.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for EventsError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

/// Retention: purges the events older than a given age from the feed (the sweeper's work).
pub struct Retention {
    retention: Arc<dyn EventRetention>,
    clock: Arc<dyn Clock>,
}

impl Retention {
    /// Over `ports` (the primary's: it writes).
    #[must_use]
    pub fn new(ports: &Ports) -> Self {
        Self { retention: Arc::clone(&ports.retention), clock: Arc::clone(&ports.clock) }
    }

    /// Purges the events committed more than `keep` ago that every relay and webhook
    /// subscription has taken; returns the position purged through.
    ///
    /// # Errors
    /// [`EventsError::Unavailable`] when the store fails.
    pub async fn purge(&self, keep: chrono::TimeDelta) -> Result<Sequence, EventsError> {
        Ok(self.retention.purge(self.clock.now() - keep).await?)
    }
}

/// What a reader asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRequest {
    /// The position after which to read ([`Sequence::START`] for the beginning).
    pub after: Sequence,
    /// The most events to return, at most [`Events::MAX_LIMIT`].
    pub limit: u32,
    /// How long to wait for the first new event when there is none yet, at most
    /// [`Events::MAX_WAIT`]; zero answers at once.
    pub wait: Duration,
}

/// The feed's reader.
pub struct Events {
    feed: Arc<dyn EventFeed>,
    clock: Arc<dyn Clock>,
    poll: Duration,
}

impl Events {
    /// The most events one page may hold.
    pub const MAX_LIMIT: u32 = 1_000;
    /// The longest a reader may wait for new events in one request.
    pub const MAX_WAIT: Duration = Duration::from_secs(30);
    /// How often a waiting reader looks at the feed's head: events may be committed by any
    /// server process, so the store is the only place to learn of them. One indexed read of
    /// one row per waiting reader per period.
    pub const POLL: Duration = Duration::from_millis(100);

    /// The reader over `ports`.
    #[must_use]
    pub fn new(ports: &Ports) -> Self {
        Self { feed: Arc::clone(&ports.events), clock: Arc::clone(&ports.clock), poll: Self::POLL }
    }

    /// The events after `request.after`, waiting up to `request.wait` for the first one.
    ///
    /// # Errors
    /// [`EventsError::CursorExpired`] when `request.after` is before what the feed still
    /// holds; [`EventsError::Unavailable`] when the store fails.
    #[tracing::instrument(skip_all, fields(after = %request.after, limit = request.limit))]
    pub async fn read(&self, request: EventRequest) -> Result<EventPage, EventsError> {
        let limit = request.limit.clamp(1, Self::MAX_LIMIT);
        let wait = request.wait.min(Self::MAX_WAIT);
        let mut waited = Duration::ZERO;
        loop {
            let items = self.feed.after(request.after, limit).await?;
            if !items.is_empty() || waited >= wait || !self.head_moves(request, &mut waited).await?
            {
                // Asked after the page: a purge moves the mark before it removes events, so a
                // page that lost some to a purge under way is caught here.
                let purged = self.feed.purged_through().await?;
                let earliest = purged.plus(1);
                if request.after < purged {
                    return Err(EventsError::CursorExpired { earliest });
                }
                let next = items.last().map_or(request.after, |event| event.sequence);
                return Ok(EventPage { items, next, earliest });
            }
        }
    }

    /// Waits, looking at the head every [`Events::POLL`] (one row: cheaper than a page), until
    /// it passes `request.after` (`true`) or the wait is over (`false`).
    async fn head_moves(
        &self,
        request: EventRequest,
        waited: &mut Duration,
    ) -> Result<bool, EventsError> {
        let wait = request.wait.min(Self::MAX_WAIT);
        while *waited < wait {
            let nap = self.poll.min(wait - *waited);
            self.clock.sleep(nap).await;
            *waited += nap;
            if self.feed.head().await? > request.after {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use domain::ports::{MockClock, MockEventFeed};

    use super::*;
    use crate::test_support::Mocks;

    fn request(after: i64, wait: Duration) -> EventRequest {
        EventRequest { after: Sequence::new(after).unwrap(), limit: 10, wait }
    }

    fn reader(mut events: MockEventFeed, clock: MockClock) -> Events {
        events.expect_purged_through().returning(|| Ok(Sequence::START));
        Events::new(&Mocks { events, clock, ..Mocks::new() }.into_ports())
    }

    #[tokio::test]
    async fn a_reader_behind_the_retention_is_told_where_the_feed_begins() {
        let mut feed = MockEventFeed::new();
        feed.expect_after().returning(|_, _| Ok(Vec::new()));
        feed.expect_purged_through().returning(|| Ok(Sequence::new(40).unwrap()));
        let events = Events::new(&Mocks { events: feed, ..Mocks::new() }.into_ports());
        let read = events.read(request(39, Duration::ZERO)).await;
        assert!(
            matches!(read, Err(EventsError::CursorExpired { earliest }) if earliest.get() == 41),
            "{read:?}"
        );
        let page = events.read(request(40, Duration::ZERO)).await.expect("at the mark");
        assert_eq!((page.next.get(), page.earliest.get()), (40, 41));
    }

    #[tokio::test]
    async fn nothing_new_and_no_wait_answers_at_once_with_the_same_position() {
        let mut feed = MockEventFeed::new();
        feed.expect_head().never();
        feed.expect_after().times(1).returning(|_, _| Ok(Vec::new()));
        let mut clock = MockClock::new();
        clock.expect_sleep().never();
        let page = reader(feed, clock).read(request(5, Duration::ZERO)).await.unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.next.get(), 5);
    }

    #[tokio::test]
    async fn a_waiting_reader_polls_the_head_until_the_wait_is_over() {
        let mut feed = MockEventFeed::new();
        feed.expect_head().times(5).returning(|| Ok(Sequence::new(5).unwrap()));
        feed.expect_after().times(1).returning(|_, _| Ok(Vec::new()));
        let mut clock = MockClock::new();
        clock.expect_sleep().times(5).returning(|_| ());
        let page = reader(feed, clock).read(request(5, Duration::from_millis(500))).await.unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.next.get(), 5);
    }

    #[tokio::test]
    async fn a_waiting_reader_reads_the_page_once_the_head_has_moved() {
        use domain::event::{Event, EventBody};
        let mut feed = MockEventFeed::new();
        let mut pages = vec![
            Vec::new(),
            vec![Event {
                sequence: Sequence::new(6).unwrap(),
                time: crate::test_support::t0(),
                body: EventBody::Product(crate::test_support::product(1)),
            }],
        ]
        .into_iter();
        feed.expect_after().times(2).returning(move |_, _| Ok(pages.next().unwrap_or_default()));
        let mut heads = [5, 5, 6].into_iter();
        feed.expect_head()
            .times(3)
            .returning(move || Ok(Sequence::new(heads.next().unwrap()).unwrap()));
        let mut clock = MockClock::new();
        clock.expect_sleep().times(3).returning(|_| ());
        let page = reader(feed, clock).read(request(5, Duration::from_secs(5))).await.unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next.get(), 6);
    }

    #[tokio::test]
    async fn store_failures_reach_the_reader() {
        let mut feed = MockEventFeed::new();
        feed.expect_after().returning(|_, _| Err(domain::ports::StoreError::unavailable("down")));
        let clock = MockClock::new();
        let read = reader(feed, clock).read(request(0, Duration::ZERO)).await;
        assert!(matches!(read, Err(EventsError::Unavailable(_))));
    }
}

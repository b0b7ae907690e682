//! [`IdempotencyStore`] conformance cases.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{ManualClock, SharedClock};
use crate::event::{CorrelationId, EventId};
use crate::idempotency::{Claim, IdempotencyStore};
use crate::response::Receipt;

use super::eventually;

const LEASE: Duration = Duration::from_millis(300);

async fn setup<F, Fut>(make: F) -> (Arc<dyn IdempotencyStore>, ManualClock)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let clock = ManualClock::starting_now();
    (make(Arc::new(clock.clone())).await, clock)
}

fn id(s: &str) -> EventId {
    EventId::new(s).expect("valid test id")
}

fn receipt(event_id: &EventId) -> Receipt {
    Receipt {
        event_id: event_id.clone(),
        correlation_id: CorrelationId::generate(),
    }
}

/// The first claim wins; a second sees it in progress, then completed with the receipt.
pub async fn first_claim_wins_then_in_progress_then_completed<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let (store, _) = setup(make).await;
    let e = id("evt-first");
    assert_eq!(store.claim(&e, LEASE * 100).await.unwrap(), Claim::Won);
    assert_eq!(
        store.claim(&e, LEASE * 100).await.unwrap(),
        Claim::InProgress
    );
    let r = receipt(&e);
    store.complete(&e, &r).await.unwrap();
    assert_eq!(
        store.claim(&e, LEASE * 100).await.unwrap(),
        Claim::Completed(r)
    );
}

/// 32 concurrent claims of one id: exactly one wins.
pub async fn concurrent_claims_have_exactly_one_winner<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let (store, _) = setup(make).await;
    let e = id("evt-race");
    let claims = (0..32).map(|_| {
        let store = store.clone();
        let e = e.clone();
        tokio::spawn(async move { store.claim(&e, Duration::from_secs(60)).await })
    });
    let mut winners = 0;
    for claim in claims {
        if claim.await.unwrap().unwrap() == Claim::Won {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

/// A claim whose lease ran out (its holder crashed) can be won again.
pub async fn expired_claim_can_be_taken_over<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let (store, clock) = setup(make).await;
    let e = id("evt-crashed");
    assert_eq!(store.claim(&e, LEASE).await.unwrap(), Claim::Won);
    clock.advance(LEASE + Duration::from_millis(1));
    let won = eventually(Duration::from_secs(3), || async {
        (store.claim(&e, LEASE * 100).await.unwrap() == Claim::Won).then_some(())
    })
    .await;
    assert!(won.is_some(), "an expired claim was never released");
}

/// A released claim can be won by the retry.
pub async fn release_allows_a_retry<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let (store, _) = setup(make).await;
    let e = id("evt-released");
    assert_eq!(store.claim(&e, LEASE * 100).await.unwrap(), Claim::Won);
    store.release(&e).await.unwrap();
    assert_eq!(store.claim(&e, LEASE * 100).await.unwrap(), Claim::Won);
}

/// Ids of the maximum length and with non-ASCII characters are kept exactly.
pub async fn long_and_non_ascii_ids_round_trip<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let (store, _) = setup(make).await;
    let long = id(&"é".repeat(64)); // 128 bytes
    let similar = id(&format!("{}e", "é".repeat(63)));
    for e in [&long, &similar] {
        assert_eq!(store.claim(e, LEASE * 100).await.unwrap(), Claim::Won);
        let r = receipt(e);
        store.complete(e, &r).await.unwrap();
        assert_eq!(
            store.claim(e, LEASE * 100).await.unwrap(),
            Claim::Completed(r)
        );
    }
}

/// Claims on different ids do not interfere.
pub async fn ids_are_independent<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn IdempotencyStore>>,
{
    let (store, _) = setup(make).await;
    assert_eq!(
        store.claim(&id("a"), LEASE * 100).await.unwrap(),
        Claim::Won
    );
    assert_eq!(
        store.claim(&id("b"), LEASE * 100).await.unwrap(),
        Claim::Won
    );
    store.release(&id("a")).await.unwrap();
    assert_eq!(
        store.claim(&id("b"), LEASE * 100).await.unwrap(),
        Claim::InProgress
    );
}

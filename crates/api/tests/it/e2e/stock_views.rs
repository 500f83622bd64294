//! A stock view with its ETag is a claim: "the stock was this at version n". Every such
//! answer must name a state the stock really had, as its ledger tells it, also while other
//! writers race; otherwise an `If-Match` built from it means something else than the client
//! saw.

use std::collections::BTreeMap;

use api::cli::{Config, StockWritesArg};
use api::wire::StockView;
use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;

on_both_backends!(with_compare_and_swap_every_adjustment_answers_a_state_the_stock_had, patient);
on_both_backends!(with_guarded_writes_every_adjustment_answers_a_state_the_stock_had, guarded);

/// Compare-and-swap, and enough attempts that no adjustment gives up under 40 checkouts.
fn patient(config: &mut Config) {
    config.retry_attempts = 60;
    config.stock_writes = Some(StockWritesArg::CompareAndSwap);
}

fn guarded(config: &mut Config) {
    config.stock_writes = Some(StockWritesArg::Guarded);
}

async fn with_compare_and_swap_every_adjustment_answers_a_state_the_stock_had(api: Api) {
    adjustments_racing_checkouts_answer_real_states(api).await;
}

async fn with_guarded_writes_every_adjustment_answers_a_state_the_stock_had(api: Api) {
    adjustments_racing_checkouts_answer_real_states(api).await;
}

/// (on-hand, reserved) after each version, replayed from the ledger.
async fn history(api: &Api, product: Uuid) -> BTreeMap<i64, (i64, i64)> {
    let mut state = (0, 0);
    let mut history = BTreeMap::new();
    for movement in api.movements(product).await.iter().rev() {
        state = (state.0 + movement.on_hand_delta, state.1 + movement.reserved_delta);
        history.insert(movement.version, state);
    }
    history
}

async fn adjustments_racing_checkouts_answer_real_states(api: Api) {
    // Arrange
    let product = api.create_product("VIEWS-1", 1000).await;
    let path = format!("/v1/products/{product}/stock/adjustments");

    // Act: 10 adjustments of +1 among 40 checkouts of 1, all at once.
    let mut racers = JoinSet::new();
    for n in 0..50 {
        let (api, path) = (api.clone(), path.clone());
        racers.spawn(async move {
            if n % 5 == 0 {
                let adjust = api.admin(Method::POST, &path).json(&json!({"delta": 1}));
                Some(api.send(adjust).await)
            } else {
                api.checkout(&[(product, 1)]).await;
                None
            }
        });
    }
    let answers: Vec<_> = racers.join_all().await.into_iter().flatten().collect();

    // Assert
    let history = history(&api, product).await;
    for answer in answers {
        assert_eq!(answer.status, 200, "{}", answer.text());
        let view: StockView = answer.json();
        assert_eq!(answer.header("etag"), Some(format!("\"{}\"", view.version).as_str()));
        let had = history.get(&view.version);
        assert_eq!(had, Some(&(view.on_hand, view.reserved)), "answered {view:?}");
    }
}

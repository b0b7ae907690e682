//! WooCommerce's native webhooks: the ping, the signature over the exact
//! bytes WooCommerce sends, the order mapping, dedupe across deliveries, and
//! topics that are acknowledged but not stored.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use wp_bridge_core::clock::SystemClock;
use wp_bridge_core::event::EventData;
use wp_bridge_core::event_log::{EventLog, MemoryEventLog};
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::{GatewayBuilder, WooCommerceGatewayService};

const SECRET: &str = "wc-secret-0123456789-abcdef";
/// As WooCommerce's `wp_json_encode` writes it: `\/` and `\uXXXX` escapes.
const ORDER: &str = r#"{"id":5101,"status":"processing","currency":"EUR","total":"59.80","date_created_gmt":"2026-12-04T09:05:00","billing":{"first_name":"Gr\u00e2ce","last_name":"Hopper","email":"grace@example.com"},"line_items":[{"id":1,"product_id":7,"name":"Mug","quantity":2,"total":"29.90"}],"_links":{"self":[{"href":"https:\/\/shop.example\/wp-json\/wc\/v3\/orders\/5101"}]}}"#;
/// printf '%s' "$ORDER" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
const ORDER_SIGNATURE: &str = "5yIalPFL26Unu6grlCtxy9xzJZkm1Xle7PrpyXGVAcQ=";

fn gateway() -> (
    WooCommerceGatewayService,
    Arc<MemoryEventLog>,
    Arc<MemoryQueue>,
) {
    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    // A builder made with the webhook's secret.
    let service = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(Routes::all_to("hubspot"))
        .max_queue_depth(0) // would shed every request; this source is never shed
        .build_woocommerce(
            Arc::new(MemoryIdempotencyStore::new(clock)),
            log.clone(),
            queue.clone(),
        );
    (service, log, queue)
}

async fn deliver(
    service: &WooCommerceGatewayService,
    body: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let mut request =
        Request::post("/webhooks/woocommerce").header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = service
        .clone()
        .oneshot(
            request
                .body(Full::new(Bytes::from(body.to_owned())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn order_headers(delivery: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("x-wc-webhook-signature", ORDER_SIGNATURE),
        ("x-wc-webhook-id", "12"),
        ("x-wc-webhook-topic", "order.created"),
        ("x-wc-webhook-source", "https://shop.example/"),
        ("x-wc-webhook-delivery-id", delivery),
    ]
}

#[tokio::test]
async fn the_ping_is_answered_with_exactly_200() {
    let (service, log, _) = gateway();
    let (status, body) = deliver(
        &service,
        "webhook_id=12",
        &[("content-type", "application/x-www-form-urlencoded")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ping"], true);
    assert!(log.is_empty());
}

#[tokio::test]
async fn a_signed_order_is_mapped_stored_once_and_never_shed() {
    let (service, log, queue) = gateway();
    let (status, answer) = deliver(&service, ORDER, &order_headers("d-1")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let id = answer["event_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wc-12-order.created-"), "{id}");
    let stored = log
        .load(&wp_bridge_core::event::EventId::new(id.clone()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let EventData::OrderCreated(order) = &stored.event.data else {
        panic!("not an order")
    };
    assert_eq!(
        (order.id, order.total.as_str(), order.currency.as_str()),
        (5101, "59.80", "EUR")
    );
    assert_eq!(order.customer.first_name, "Grâce");
    assert_eq!(order.customer.email, "grace@example.com");
    assert_eq!(
        (order.line_items[0].product_id, order.line_items[0].quantity),
        (7, 2)
    );
    assert_eq!(stored.event.site, "https://shop.example");
    assert_eq!(queue.depth().await.unwrap(), 1);

    // WooCommerce's delivery id changes per attempt; the event does not.
    let (status, again) = deliver(&service, ORDER, &order_headers("d-2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["event_id"], id.as_str());
    assert_eq!(log.len(), 1);
}

#[tokio::test]
async fn other_topics_are_acknowledged_and_bad_signatures_refused() {
    let (service, log, _) = gateway();
    let mut updated = order_headers("d-3");
    updated[2] = ("x-wc-webhook-topic", "order.updated");
    let (status, body) = deliver(&service, ORDER, &updated).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ignored"))
    );

    // Re-serialised JSON (no `\/` escapes) no longer matches the signature.
    let reserialised =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(ORDER).unwrap()).unwrap();
    let (status, body) = deliver(&service, &reserialised, &order_headers("d-4")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_signature"))
    );
    let mut unsigned = order_headers("d-5");
    unsigned.remove(0);
    let (status, body) = deliver(&service, ORDER, &unsigned).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("missing_header"))
    );
    assert!(log.is_empty());
}

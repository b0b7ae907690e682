//! The IP allowlist over real TCP: the socket's peer address, and forwarded
//! headers only from trusted proxies.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::StatusCode;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event_log::MemoryEventLog;
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::layer::IpAllowlistLayer;
use wp_bridge_core::queue::MemoryQueue;
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::sample_body;
use wp_bridge_core::GatewayBuilder;

const SECRET: &str = "allowlist-test-secret-0123456789";

async fn serve(allowlist: IpAllowlistLayer) -> (String, Arc<MemoryEventLog>) {
    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let gateway = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(Routes::all_to("log"))
        .ip_allowlist(allowlist)
        .build(
            Arc::new(MemoryIdempotencyStore::new(clock.clone())),
            log.clone(),
            Arc::new(MemoryQueue::new(clock)),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/wp", listener.local_addr().unwrap());
    let app = wp_bridge_axum::router(gateway).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, log)
}

async fn send(url: &str, id: &str, forwarded: Option<&str>) -> (StatusCode, serde_json::Value) {
    let body = sample_body(id);
    let now = SystemClock.unix_seconds();
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-wp-timestamp", now.to_string())
        .header(
            "x-wp-signature",
            SecretSet::new([SECRET]).unwrap().sign(now, &body),
        )
        .header("x-event-id", id)
        .body(body);
    if let Some(xff) = forwarded {
        request = request.header("x-forwarded-for", xff);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_peer_address_decides_and_nothing_is_stored_when_refused() {
    let (url, log) = serve(IpAllowlistLayer::new(["10.9.9.0/24", "2001:db8::/32"]).unwrap()).await;
    let (status, body) = send(&url, "from-loopback", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("ip_not_allowed"))
    );
    // A forwarded header from an untrusted peer changes nothing.
    let (status, _) = send(&url, "spoofed", Some("10.9.9.9")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(log.is_empty());

    let (url, _) = serve(IpAllowlistLayer::new(["127.0.0.0/8"]).unwrap()).await;
    assert_eq!(send(&url, "allowed", None).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_decides() {
    let allowlist = IpAllowlistLayer::new(["203.0.113.0/24"])
        .unwrap()
        .trusted_proxies(["127.0.0.1", "10.0.0.0/8"])
        .unwrap();
    let (url, _) = serve(allowlist).await;
    assert_eq!(
        send(&url, "via-proxy", Some("203.0.113.5")).await.0,
        StatusCode::ACCEPTED
    );
    // The client may write anything on the left; the hop our proxies saw counts.
    assert_eq!(
        send(&url, "lying-client", Some("203.0.113.5, 198.51.100.7"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&url, "two-proxies", Some("203.0.113.9, 10.1.2.3"))
            .await
            .0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&url, "no-header", None).await.0,
        StatusCode::FORBIDDEN,
        "the proxy itself is not allowed"
    );
}

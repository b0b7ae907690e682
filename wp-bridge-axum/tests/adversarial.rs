//! Hostile HTTP over real TCP: each answered with the right 4xx, no panic,
//! nothing stored.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;

use reqwest::StatusCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wp_bridge_axum::{RouterOptions, ServerLimits};
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event_log::MemoryEventLog;
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::sample_body;
use wp_bridge_core::GatewayBuilder;

const SECRET: &str = "adversarial-test-secret-0123456789";

struct Target {
    url: String,
    log: Arc<MemoryEventLog>,
    queue: Arc<MemoryQueue>,
    client: reqwest::Client,
}

async fn target() -> Target {
    target_with(ServerLimits::default(), RouterOptions::default()).await
}

async fn target_with(limits: ServerLimits, options: RouterOptions) -> Target {
    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let gateway = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(Routes::all_to("log"))
        .build(
            Arc::new(MemoryIdempotencyStore::new(clock)),
            log.clone(),
            queue.clone(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/wp", listener.local_addr().unwrap());
    let router = wp_bridge_axum::router_with(gateway, options);
    tokio::spawn(async move {
        wp_bridge_axum::serve(listener, router, limits, std::future::pending())
            .await
            .unwrap()
    });
    Target {
        url,
        log,
        queue,
        client: reqwest::Client::new(),
    }
}

impl Target {
    /// Sends `body` signed over `signed` (usually the same bytes), with extra headers.
    async fn send(
        &self,
        body: Vec<u8>,
        headers: &[(&str, String)],
        sign: bool,
    ) -> (StatusCode, String) {
        let now = SystemClock.unix_seconds();
        let mut request = self.client.post(&self.url);
        let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if !has("content-type") {
            request = request.header("content-type", "application/json");
        }
        if !has("x-wp-timestamp") {
            request = request.header("x-wp-timestamp", now.to_string());
        }
        if sign && !has("x-wp-signature") {
            request = request.header(
                "x-wp-signature",
                SecretSet::new([SECRET]).unwrap().sign(now, &body),
            );
        }
        if !has("x-event-id") {
            request = request.header("x-event-id", "adv-1");
        }
        for (k, v) in headers {
            request = request.header(*k, v.as_str());
        }
        let response = request.body(body).send().await.unwrap();
        (response.status(), response.text().await.unwrap_or_default())
    }

    async fn assert_nothing_stored(&self, case: &str) {
        assert!(self.log.is_empty(), "{case}: something was stored");
        assert_eq!(
            self.queue.depth().await.unwrap(),
            0,
            "{case}: something was queued"
        );
    }
}

/// Name, body, extra headers, whether to sign, expected status and code.
type Case = (
    &'static str,
    Vec<u8>,
    Vec<(&'static str, String)>,
    bool,
    u16,
    Option<&'static str>,
);

fn error_code(body: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(body).ok()?["error"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn hostile_requests_get_the_right_4xx_and_store_nothing() {
    let t = target().await;
    let good = sample_body("adv-1");
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)).into_bytes();
    let mut nul = good.clone();
    nul.insert(1, 0);
    let now = SystemClock.unix_seconds();
    let sig = SecretSet::new([SECRET]).unwrap().sign(now, &good);
    let spaced = format!("{} {}", &sig[..10], &sig[10..]);
    let cases: Vec<Case> = vec![
        (
            "non-UTF-8 body",
            vec![0xff, 0xfe, b'{', 0x80],
            vec![],
            true,
            400,
            Some("invalid_json"),
        ),
        (
            "deep nesting",
            deep,
            vec![],
            true,
            400,
            Some("invalid_json"),
        ),
        ("raw NUL byte", nul, vec![], true, 400, Some("invalid_json")),
        (
            "escaped NUL",
            br#"{"event":"lead.created","event_id":"adv-1","x":"\u0000"}"#.to_vec(),
            vec![],
            true,
            400,
            Some("invalid_json"),
        ),
        (
            "number beyond u64",
            good_with(r#""id":17"#, r#""id":18446744073709551616"#),
            vec![],
            true,
            400,
            Some("invalid_event"),
        ),
        (
            "number as float",
            good_with(r#""id":17"#, r#""id":1e400"#),
            vec![],
            true,
            400,
            None,
        ),
        (
            "text/plain",
            good.clone(),
            vec![("content-type", "text/plain".into())],
            true,
            415,
            Some("unsupported_media_type"),
        ),
        (
            "multipart",
            good.clone(),
            vec![("content-type", "multipart/form-data; boundary=x".into())],
            true,
            415,
            Some("unsupported_media_type"),
        ),
        (
            "signed timestamp",
            good.clone(),
            vec![("x-wp-timestamp", format!("+{now}"))],
            true,
            400,
            Some("invalid_timestamp"),
        ),
        (
            "spaced timestamp",
            good.clone(),
            vec![(
                "x-wp-timestamp",
                format!("{} {}", &now.to_string()[..4], &now.to_string()[4..]),
            )],
            true,
            400,
            Some("invalid_timestamp"),
        ),
        (
            "decimal timestamp",
            good.clone(),
            vec![("x-wp-timestamp", format!("{now}.0"))],
            true,
            400,
            Some("invalid_timestamp"),
        ),
        (
            "base64 with a space inside",
            good.clone(),
            vec![("x-wp-signature", spaced)],
            false,
            401,
            Some("bad_signature"),
        ),
        (
            "two signatures, the first wrong",
            good.clone(),
            vec![
                ("x-wp-signature", "AAAA".into()),
                ("x-wp-signature", sig.clone()),
            ],
            false,
            401,
            Some("bad_signature"),
        ),
        (
            "huge header",
            good.clone(),
            vec![("x-junk", "a".repeat(200_000))],
            true,
            431,
            None,
        ),
    ];
    for (name, body, headers, sign, status, code) in cases {
        let (got, body) = t.send(body, &headers, sign).await;
        assert!(!got.is_server_error(), "{name}: {got}");
        assert_eq!(got.as_u16(), status, "{name}: {body}");
        if let Some(code) = code {
            assert_eq!(error_code(&body).as_deref(), Some(code), "{name}: {body}");
        }
        t.assert_nothing_stored(name).await;
    }

    // A thousand repeated headers: refused by the HTTP layer, not a crash.
    let mut request = t
        .client
        .post(&t.url)
        .header("content-type", "application/json");
    for i in 0..1000 {
        request = request.header("x-repeat", i.to_string());
    }
    let status = request.body(good.clone()).send().await.unwrap().status();
    assert!(status.is_client_error(), "{status}");
    t.assert_nothing_stored("repeated headers").await;

    // The gateway still serves after all of it.
    let (status, _) = t.send(good, &[], true).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn duplicate_json_keys_resolve_to_the_last_one_consistently() {
    let t = target().await;
    // serde_json keeps the last value of a repeated key: the signed body's
    // event_id is then the second one, and the header must agree with it.
    let body = String::from_utf8(sample_body("first")).unwrap().replacen(
        r#""event_id":"first""#,
        r#""event_id":"first","event_id":"second""#,
        1,
    );
    let (status, text) = t
        .send(
            body.clone().into_bytes(),
            &[("x-event-id", "first".into())],
            true,
        )
        .await;
    assert_eq!(
        (status.as_u16(), error_code(&text).as_deref()),
        (400, Some("event_id_mismatch"))
    );
    t.assert_nothing_stored("mismatched duplicate key").await;
    let (status, text) = t
        .send(body.into_bytes(), &[("x-event-id", "second".into())], true)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
}

fn good_with(from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(sample_body("adv-1"))
        .unwrap()
        .replacen(from, to, 1)
        .into_bytes()
}

#[tokio::test]
async fn a_request_head_trickled_slowly_is_cut_off() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let t = target_with(limits, RouterOptions::default()).await;
    let addr = t
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /webhooks/wp HTTP/1.1\r\nHost: x\r\nX-WP-Timestamp: 1")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the server kept a slowloris connection open"
    );
    t.assert_nothing_stored("slow head").await;
}

#[tokio::test]
async fn a_body_trickled_slowly_gets_408_and_nothing_is_stored() {
    let options = RouterOptions {
        request_timeout: Duration::from_millis(300),
        ..RouterOptions::default()
    };
    let t = target_with(ServerLimits::default(), options).await;
    let addr = t
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let body = sample_body("slow-body");
    let now = SystemClock.unix_seconds();
    let head = format!(
        "POST /webhooks/wp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-WP-Timestamp: {now}\r\nX-WP-Signature: {}\r\nX-Event-Id: slow-body\r\n\r\n",
        body.len(),
        SecretSet::new([SECRET]).unwrap().sign(now, &body)
    );
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..10]).await.unwrap(); // then nothing more
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    t.assert_nothing_stored("slow body").await;
}

//! Property tests (the stable-toolchain stand-in for fuzzing): any change to
//! a signed request is refused, and no input — however malformed — makes
//! the parser or the whole ingest path panic, answer 5xx, or store anything.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use proptest::prelude::*;
use tower::ServiceExt;
use wp_bridge_core::clock::{ManualClock, SharedClock};
use wp_bridge_core::event::parse_event;
use wp_bridge_core::event_log::MemoryEventLog;
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::{SecretSet, SignatureVerifier, VerifyError};
use wp_bridge_core::testing::sample_body;
use wp_bridge_core::GatewayBuilder;

const SECRET: &str = "property-test-secret-0123456789";

/// Cases per property: short in CI, as many as you like by hand with
/// `PROPTEST_CASES=100000 cargo test -p wp-bridge-core --test properties`.
/// Failing inputs are saved under `proptest-regressions/` and replayed first
/// on every later run: that directory is the corpus.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
const NOW: u64 = 1_700_000_000;

fn verifier() -> SignatureVerifier {
    SignatureVerifier::new(SecretSet::new([SECRET]).unwrap())
}

fn sign(ts: u64, body: &[u8]) -> String {
    SecretSet::new([SECRET]).unwrap().sign(ts, body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn a_signed_body_verifies_and_any_changed_byte_does_not(
        body in proptest::collection::vec(any::<u8>(), 1..2048),
        skew in -300i64..=300,
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let ts = (NOW as i64 + skew) as u64;
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        let sig = sign(ts, &body);
        let ts_text = ts.to_string();
        prop_assert!(verifier().verify_parts(ts_text.as_bytes(), sig.as_bytes(), &body, now).is_ok());
        let mut changed = body.clone();
        let i = index.index(changed.len());
        changed[i] ^= flip;
        prop_assert_eq!(
            verifier().verify_parts(ts_text.as_bytes(), sig.as_bytes(), &changed, now),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_changed_timestamp_or_signature_is_refused(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        other_ts in 0u64..10_000_000_000,
        index in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9+/]",
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        let sig = sign(NOW, &body);
        prop_assume!(other_ts != NOW);
        let moved = verifier().verify_parts(other_ts.to_string().as_bytes(), sig.as_bytes(), &body, now);
        prop_assert!(matches!(moved, Err(VerifyError::BadSignature | VerifyError::StaleTimestamp { .. })), "{moved:?}");

        let mut forged: Vec<char> = sig.chars().collect();
        let i = index.index(forged.len() - 1); // the trailing '=' is padding
        let c = replacement.chars().next().unwrap();
        prop_assume!(forged[i] != c);
        forged[i] = c;
        let forged: String = forged.into_iter().collect();
        prop_assert_eq!(
            verifier().verify_parts(NOW.to_string().as_bytes(), forged.as_bytes(), &body, now),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse_event(&body);
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_json(value in json_value(4)) {
        let mut envelope = serde_json::json!({"event": "order.created", "event_id": "p-1", "site": "https://a.example"});
        envelope["data"] = value.clone();
        let _ = parse_event(envelope.to_string().as_bytes());
        let _ = parse_event(value.to_string().as_bytes());
    }
}

/// Random JSON up to `depth` levels, with the shapes the schema cares about.
fn json_value(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(depth, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("customer".to_owned()),
                    Just("line_items".to_owned()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(128), ..ProptestConfig::default() })]

    #[test]
    fn no_request_makes_the_gateway_answer_5xx_or_store_anything_unverified(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        timestamp in prop_oneof![Just(NOW.to_string()), "[ +\\-0-9.e]{0,14}"],
        event_id in "[ -~]{0,40}",
        sign_it in any::<bool>(),
        content_type in prop_oneof![Just("application/json"), Just("text/plain"), Just("application/x-www-form-urlencoded")],
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let clock: SharedClock = Arc::new(ManualClock::at_unix(NOW));
            let log = Arc::new(MemoryEventLog::new(clock.clone()));
            let queue = Arc::new(MemoryQueue::new(clock.clone()));
            let gateway = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
                .routes(Routes::all_to("log"))
                .clock(clock.clone())
                .body_limit(1024)
                .build(Arc::new(MemoryIdempotencyStore::new(clock)), log.clone(), queue.clone());
            let signature = if sign_it { sign(timestamp.parse().unwrap_or(0), &body) } else { "bm90IGEgc2lnbmF0dXJl".into() };
            let mut request = Request::post("/webhooks/wp").header("content-type", content_type);
            for (name, value) in [("x-wp-timestamp", timestamp.as_str()), ("x-wp-signature", signature.as_str()), ("x-event-id", event_id.as_str())] {
                if let Ok(value) = http::HeaderValue::from_str(value) {
                    request = request.header(name, value);
                }
            }
            let response = gateway.oneshot(request.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
            let status = response.status();
            prop_assert!(!status.is_server_error(), "{status}");
            if status != StatusCode::ACCEPTED {
                prop_assert!(log.is_empty(), "{status} but something was stored");
                prop_assert_eq!(queue.depth().await.unwrap(), 0);
            }
            Ok(())
        })?;
    }

    #[test]
    fn a_valid_signed_event_with_a_changed_event_id_header_is_refused(suffix in "[a-z0-9]{1,8}") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let clock: SharedClock = Arc::new(ManualClock::at_unix(NOW));
            let log = Arc::new(MemoryEventLog::new(clock.clone()));
            let gateway = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
                .clock(clock.clone())
                .build(Arc::new(MemoryIdempotencyStore::new(clock.clone())), log.clone(), Arc::new(MemoryQueue::new(clock)));
            let body = sample_body("evt-prop");
            let request = Request::post("/webhooks/wp")
                .header("content-type", "application/json")
                .header("x-wp-timestamp", NOW.to_string())
                .header("x-wp-signature", sign(NOW, &body))
                .header("x-event-id", format!("evt-prop{suffix}"))
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = gateway.oneshot(request).await.unwrap();
            prop_assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            prop_assert!(log.is_empty());
            Ok(())
        })?;
    }
}

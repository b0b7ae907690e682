//! Standard Webhooks: the published example signature, rotation, the
//! spec's rules, and the envelope a generic sender posts.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use wp_bridge_core::clock::{ManualClock, SharedClock};
use wp_bridge_core::event::EventId;
use wp_bridge_core::event_log::{EventLog, MemoryEventLog};
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::queue::MemoryQueue;
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::{SecretSet, StandardWebhooksVerifier, VerifyError};
use wp_bridge_core::GatewayBuilder;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: u64 = 1_614_265_330;
const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;

fn at(secs: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn the_published_example_verifies() {
    // KEY=$(echo -n MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 256)
    // printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' \
    //   | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -binary | base64
    let expected = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let secrets = SecretSet::from_standard_webhooks(SECRET).unwrap();
    assert_eq!(
        secrets.sign_segments(&[ID.as_bytes(), TS.to_string().as_bytes(), PAYLOAD]),
        expected
    );
    let verifier = StandardWebhooksVerifier::new(secrets);
    let header = format!("v1,{expected}");
    assert!(verifier
        .verify_parts(
            ID.as_bytes(),
            b"1614265330",
            header.as_bytes(),
            PAYLOAD,
            at(TS)
        )
        .is_ok());
    // Exactly ±300 s passes, 301 does not.
    assert!(verifier
        .verify_parts(
            ID.as_bytes(),
            b"1614265330",
            header.as_bytes(),
            PAYLOAD,
            at(TS + 300)
        )
        .is_ok());
    assert!(matches!(
        verifier.verify_parts(
            ID.as_bytes(),
            b"1614265330",
            header.as_bytes(),
            PAYLOAD,
            at(TS + 301)
        ),
        Err(VerifyError::StaleTimestamp { .. })
    ));
}

#[test]
fn any_matching_v1_entry_of_any_secret_passes_and_nothing_else_does() {
    let new = "whsec_".to_owned() + &base64_of(b"a-brand-new-standard-webhooks-key");
    let secrets = SecretSet::from_standard_webhooks(&format!("{new}, {SECRET}")).unwrap();
    let old_sig = SecretSet::from_standard_webhooks(SECRET)
        .unwrap()
        .sign_segments(&[ID.as_bytes(), b"1614265330", PAYLOAD]);
    let verifier = StandardWebhooksVerifier::new(secrets);
    let check = |header: &str, id: &str, body: &[u8]| {
        verifier.verify_parts(
            id.as_bytes(),
            b"1614265330",
            header.as_bytes(),
            body,
            at(TS),
        )
    };
    let verified = check(&format!("v1,AAAA v1a,{old_sig} v1,{old_sig}"), ID, PAYLOAD).unwrap();
    assert_eq!(
        verified.key_index, 1,
        "the old secret matched during the rotation"
    );
    assert_eq!(
        check(&format!("v1a,{old_sig}"), ID, PAYLOAD),
        Err(VerifyError::BadSignature),
        "only v1 entries count"
    );
    assert_eq!(
        check(&old_sig, ID, PAYLOAD),
        Err(VerifyError::BadSignature),
        "an entry needs its version"
    );
    assert_eq!(
        check(&format!("v1,{old_sig}"), "msg_other", PAYLOAD),
        Err(VerifyError::BadSignature),
        "the id is signed"
    );
    assert_eq!(
        check(&format!("v1,{old_sig}"), "msg.dot", PAYLOAD),
        Err(VerifyError::BadSignature),
        "ids may not contain dots"
    );
    assert_eq!(
        check(&format!("v1,{old_sig}"), ID, b"{}"),
        Err(VerifyError::BadSignature)
    );
    for bad in ["1614265330.0", "-1614265330", "hello"] {
        assert_eq!(
            verifier.verify_parts(
                ID.as_bytes(),
                bad.as_bytes(),
                format!("v1,{old_sig}").as_bytes(),
                PAYLOAD,
                at(TS)
            ),
            Err(VerifyError::InvalidTimestamp)
        );
    }
    assert!(SecretSet::from_standard_webhooks("whsec_not base64!").is_err());
    let unpadded = SECRET.trim_end_matches('=');
    assert!(
        SecretSet::from_standard_webhooks(unpadded).is_ok(),
        "unpadded secrets are accepted"
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_standard_webhooks_sender_posts_the_spec_envelope_and_is_deduplicated_by_its_signed_id() {
    let now = 1_700_000_000;
    let clock: SharedClock = Arc::new(ManualClock::at_unix(now));
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let secrets = SecretSet::from_standard_webhooks(SECRET).unwrap();
    let gateway =
        GatewayBuilder::standard_webhooks(SecretSet::from_standard_webhooks(SECRET).unwrap())
            .routes(Routes::all_to("log"))
            .clock(clock.clone())
            .build(
                Arc::new(MemoryIdempotencyStore::new(clock.clone())),
                log.clone(),
                Arc::new(MemoryQueue::new(clock)),
            );
    // The spec's envelope: `type` and `data`; no `event_id`: the signed
    // webhook-id is the event's id.
    let body = serde_json::json!({
        "type": "lead.created",
        "timestamp": "2023-11-14T22:13:20Z",
        "site": "https://crm.example",
        "data": {"form_id": "signup", "form_title": "Sign up", "fields": {"name": "Ada"},
                 "source_url": "https://crm.example/signup", "created_at": "2023-11-14T22:13:20Z"}
    })
    .to_string()
    .into_bytes();
    let send = |id: &'static str, body: Vec<u8>| {
        let sig = secrets.sign_segments(&[id.as_bytes(), now.to_string().as_bytes(), &body]);
        let gateway = gateway.clone();
        async move {
            let request = Request::post("/webhooks/standard")
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", now.to_string())
                .header("webhook-signature", format!("v1,{sig}"))
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = gateway.oneshot(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            )
        }
    };
    let (status, answer) = send("msg_lead_1", body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["event_id"], "msg_lead_1");
    let stored = log
        .load(&EventId::new("msg_lead_1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event.event_type().as_str(), "lead.created");
    let (status, _) = send("msg_lead_1", body.clone()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retry with the same webhook-id is a duplicate"
    );

    // A body that names an event_id must agree with the signed id.
    let mut named: serde_json::Value = serde_json::from_slice(&body).unwrap();
    named["event_id"] = "something-else".into();
    let (status, answer) = send("msg_lead_2", named.to_string().into_bytes()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("event_id_mismatch"))
    );
    assert_eq!(log.len(), 1);
}

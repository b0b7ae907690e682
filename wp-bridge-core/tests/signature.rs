//! The WordPress signature scheme: window edges, rotation, header formats,
//! and secrets kept out of every printout.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use wp_bridge_core::signature::{SecretSet, SignatureVerifier, VerifyError};

const NOW: u64 = 1_700_000_000;
const SECRET: &str = "wp-bridge-test-secret-0001";
const BODY: &[u8] = br#"{"event":"comment.created","event_id":"v-1"}"#;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn verifier(secrets: &[&str]) -> SignatureVerifier {
    SignatureVerifier::new(SecretSet::new(secrets).unwrap())
}

fn sign(secret: &str, ts: u64, body: &[u8]) -> String {
    SecretSet::new([secret]).unwrap().sign(ts, body)
}

#[test]
fn matches_an_independent_hmac_implementation() {
    // printf '%s' '1700000000.{"event":"comment.created","event_id":"v-1"}' \
    //   | openssl dgst -sha256 -hmac 'wp-bridge-test-secret-0001' -binary | base64
    assert_eq!(
        sign(SECRET, NOW, BODY),
        "5xPOuoLCni7ztTUXiIAbBwR5e8XHsVRfp8dfGQSBFfs="
    );
}

#[test]
fn window_is_inclusive_in_both_directions() {
    let v = verifier(&[SECRET]);
    for ts in [NOW - 300, NOW, NOW + 300] {
        let sig = sign(SECRET, ts, BODY);
        let ok = v.verify_parts(ts.to_string().as_bytes(), sig.as_bytes(), BODY, at(NOW));
        assert!(
            ok.is_ok(),
            "ts offset {} should pass",
            ts as i64 - NOW as i64
        );
    }
    for ts in [NOW - 301, NOW + 301] {
        let sig = sign(SECRET, ts, BODY);
        let err = v
            .verify_parts(ts.to_string().as_bytes(), sig.as_bytes(), BODY, at(NOW))
            .unwrap_err();
        assert!(matches!(err, VerifyError::StaleTimestamp { .. }), "{err:?}");
    }
}

#[test]
fn tolerance_is_configurable() {
    let v = verifier(&[SECRET]).tolerance(Duration::from_secs(30));
    let sig = sign(SECRET, NOW - 31, BODY);
    assert!(v
        .verify_parts(
            (NOW - 31).to_string().as_bytes(),
            sig.as_bytes(),
            BODY,
            at(NOW)
        )
        .is_err());
    let sig = sign(SECRET, NOW - 30, BODY);
    assert!(v
        .verify_parts(
            (NOW - 30).to_string().as_bytes(),
            sig.as_bytes(),
            BODY,
            at(NOW)
        )
        .is_ok());
}

#[test]
fn any_configured_secret_verifies_and_reports_its_index() {
    let v = verifier(&["the-new-secret-00000", "the-old-secret-00000"]);
    let old = sign("the-old-secret-00000", NOW, BODY);
    let verified = v
        .verify_parts(NOW.to_string().as_bytes(), old.as_bytes(), BODY, at(NOW))
        .unwrap();
    assert_eq!(verified.key_index, 1);

    let after_rotation = verifier(&["the-new-secret-00000"]);
    assert_eq!(
        after_rotation.verify_parts(NOW.to_string().as_bytes(), old.as_bytes(), BODY, at(NOW)),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn the_first_secret_signs() {
    let set = SecretSet::new(["the-new-secret-00000", "the-old-secret-00000"]).unwrap();
    assert_eq!(set.sign(NOW, BODY), sign("the-new-secret-00000", NOW, BODY));
}

#[test]
fn any_change_to_body_timestamp_or_signature_is_rejected() {
    let v = verifier(&[SECRET]);
    let sig = sign(SECRET, NOW, BODY);
    let ts = NOW.to_string();
    let mut body = BODY.to_vec();
    body[10] ^= 1;
    assert_eq!(
        v.verify_parts(ts.as_bytes(), sig.as_bytes(), &body, at(NOW)),
        Err(VerifyError::BadSignature)
    );
    let other_ts = (NOW - 1).to_string();
    assert_eq!(
        v.verify_parts(other_ts.as_bytes(), sig.as_bytes(), BODY, at(NOW)),
        Err(VerifyError::BadSignature)
    );
    for bad_sig in [
        sig[..sig.len() - 4].to_string(),
        format!("{sig}AAAA"),
        sig.replace('=', ""),
        "not base64 at all!".to_string(),
        String::new(),
    ] {
        assert_eq!(
            v.verify_parts(ts.as_bytes(), bad_sig.as_bytes(), BODY, at(NOW)),
            Err(VerifyError::BadSignature),
            "{bad_sig:?}"
        );
    }
}

#[test]
fn timestamps_must_be_plain_decimal_digits() {
    let v = verifier(&[SECRET]);
    for ts in [
        "+1700000000",
        " 1700000000",
        "1700000000.5",
        "17e8",
        "-1",
        "0x6553f100",
        "１７",
        "999999999999999999999",
    ] {
        let sig = sign(SECRET, NOW, BODY);
        assert_eq!(
            v.verify_parts(ts.as_bytes(), sig.as_bytes(), BODY, at(NOW)),
            Err(VerifyError::InvalidTimestamp),
            "{ts:?}"
        );
    }
}

#[test]
fn missing_headers_are_named() {
    let v = verifier(&[SECRET]);
    let sig = sign(SECRET, NOW, BODY);
    let full = || {
        let mut h = HeaderMap::new();
        h.insert("x-wp-timestamp", NOW.to_string().parse().unwrap());
        h.insert("x-wp-signature", sig.parse().unwrap());
        h.insert("x-event-id", "v-1".parse().unwrap());
        h
    };
    assert!(v.verify(&full(), BODY, at(NOW)).is_ok());
    for (header, name) in [
        ("x-wp-timestamp", "X-WP-Timestamp"),
        ("x-wp-signature", "X-WP-Signature"),
        ("x-event-id", "X-Event-Id"),
    ] {
        let mut h = full();
        h.remove(header);
        assert_eq!(
            v.verify(&h, BODY, at(NOW)),
            Err(VerifyError::MissingHeader(name))
        );
        let mut h = full();
        h.insert(header, "".parse().unwrap());
        assert_eq!(
            v.verify(&h, BODY, at(NOW)),
            Err(VerifyError::MissingHeader(name))
        );
    }
}

#[test]
fn secrets_never_show_in_debug_display_or_errors() {
    let set = SecretSet::new([SECRET, "another-secret-value-1"]).unwrap();
    let shown = format!("{set:?} {set}");
    let printed = format!("{shown} {:?}", SignatureVerifier::new(set));
    assert!(
        !printed.contains(SECRET) && !printed.contains("another-secret"),
        "{printed}"
    );
    let short = SecretSet::new(["tiny!"]).unwrap_err().to_string();
    assert!(!short.contains("tiny!"), "{short}");
    assert!(SecretSet::new(Vec::<&str>::new()).is_err());
}

#[test]
fn comma_separated_secrets_for_rotation() {
    let set = SecretSet::from_comma_separated(" new-secret-0123456789 , old-secret-0123456789 ,")
        .unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(
        set.sign(NOW, BODY),
        sign("new-secret-0123456789", NOW, BODY)
    );
}

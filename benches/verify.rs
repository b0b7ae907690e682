//! Signature verification against a bare HMAC-SHA256 over the same bytes,
//! measured in the same run.
//!
//! ```sh
//! cargo bench --bench verify
//! python3 benches/ratios.py verify
//! ```
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::time::{Duration, UNIX_EPOCH};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wp_bridge::core::signature::{SecretSet, SignatureVerifier};

const SIGNING: &str = "bench-signing-secret-0123456789abcdef";
const OTHER: &str = "bench-other-secret-0123456789abcdef0";
const SIZES: [usize; 4] = [256, 1024, 4096, 65536];

fn body(size: usize) -> Vec<u8> {
    let mut body = br#"{"event":"comment.created","event_id":"bench","data":{"content":""#.to_vec();
    body.resize(size - 3, b'x');
    body.extend_from_slice(b"\"}}");
    body
}

fn verify(c: &mut Criterion) {
    let ts: u64 = 1_700_000_000;
    let ts_text = ts.to_string();
    let now = UNIX_EPOCH + Duration::from_secs(ts);
    let one = SignatureVerifier::new(SecretSet::new([SIGNING]).unwrap());
    // The matching secret is second, so both are tried: the rotation case.
    let two = SignatureVerifier::new(SecretSet::new([OTHER, SIGNING]).unwrap());
    let keyed = <Hmac<Sha256> as Mac>::new_from_slice(SIGNING.as_bytes()).unwrap();

    let mut group = c.benchmark_group("verify");
    for size in SIZES {
        let body = body(size);
        let signature = SecretSet::new([SIGNING]).unwrap().sign(ts, &body);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("bare_hmac", size), &body, |b, body| {
            b.iter(|| {
                let mut mac = keyed.clone();
                mac.update(ts_text.as_bytes());
                mac.update(b".");
                mac.update(black_box(body));
                black_box(mac.finalize().into_bytes())
            })
        });
        group.bench_with_input(BenchmarkId::new("one_secret", size), &body, |b, body| {
            b.iter(|| {
                one.verify_parts(
                    ts_text.as_bytes(),
                    signature.as_bytes(),
                    black_box(body),
                    now,
                )
                .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("two_secrets", size), &body, |b, body| {
            b.iter(|| {
                two.verify_parts(
                    ts_text.as_bytes(),
                    signature.as_bytes(),
                    black_box(body),
                    now,
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = verify
}
criterion_main!(benches);

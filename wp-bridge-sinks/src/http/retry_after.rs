//! How long a server asked us to wait, in the three notations the sinks'
//! targets use: `Retry-After` (seconds or an HTTP date), `retry-after-ms`
//! (OpenAI), and Go-style durations such as `6m0s` (OpenAI's
//! `x-ratelimit-reset-*`).

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// `Retry-After` as delta-seconds (fractions tolerated) or an HTTP date;
/// a date in the past means "now".
pub(crate) fn retry_after_header(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Some(seconds) = non_negative_number(value) {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// OpenAI's `retry-after-ms`: milliseconds, fractions tolerated.
pub(crate) fn retry_after_ms(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after-ms")?.to_str().ok()?.trim();
    Duration::try_from_secs_f64(non_negative_number(value)? / 1000.0).ok()
}

fn non_negative_number(text: &str) -> Option<f64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A Go `time.Duration` string: `12ms`, `1.5s`, `6m0s`, `1h2m3s`.
pub(crate) fn go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after_header(&headers("retry-after", "1"), now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_after_header(&headers("retry-after", " 2.5 "), now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(retry_after_header(&headers("retry-after", "-1"), now), None);
        assert_eq!(
            retry_after_header(&headers("retry-after", "soon"), now),
            None
        );
        assert_eq!(retry_after_header(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_after_as_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            retry_after_header(
                &headers("retry-after", "Sun, 06 Nov 1994 08:51:37 GMT"),
                now
            ),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after_header(
                &headers("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT"),
                now
            ),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_ms_header() {
        assert_eq!(
            retry_after_ms(&headers("retry-after-ms", "644")),
            Some(Duration::from_millis(644))
        );
        assert_eq!(
            retry_after_ms(&headers("retry-after-ms", "1.5")),
            Some(Duration::from_micros(1500))
        );
        assert_eq!(retry_after_ms(&headers("retry-after-ms", "x")), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        assert_eq!(go_duration(""), None);
        assert_eq!(go_duration("5 minutes"), None);
        assert_eq!(go_duration("ms"), None);
    }
}

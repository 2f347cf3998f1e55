//! Conditional and partial requests on immutable content (RFC 9110 sections 13 and 14).

use axum::http::{HeaderMap, header};

use crate::registry::blobs::Span;

/// What to send for a `Range` request against content of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeDecision {
    /// No usable range (absent, another unit, several ranges, or bad syntax): send everything.
    Full,
    Partial(Span),
    Unsatisfiable,
}

/// True when `If-None-Match` lists `etag` (weak comparison) or `*`.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim())
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// Decides how to answer the request's `Range` (honouring `If-Range`). Several ranges are answered
/// with the whole content, which RFC 9110 allows, rather than `multipart/byteranges`.
pub fn decide(headers: &HeaderMap, etag: &str, size: u64) -> RangeDecision {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeDecision::Full;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE) {
        // Only a strong validator that matches keeps the range meaningful.
        if if_range.to_str().ok().map(str::trim) != Some(etag) {
            return RangeDecision::Full;
        }
    }
    match parse_single(range) {
        None => RangeDecision::Full,
        Some(spec) => resolve(spec, size),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    FromTo(u64, u64),
    From(u64),
    Last(u64),
}

fn parse_single(header: &str) -> Option<RangeSpec> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return None;
    }
    let (first, last) = set.trim().split_once('-')?;
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => None,
        (true, false) => Some(RangeSpec::Last(number(last)?)),
        (false, true) => Some(RangeSpec::From(number(first)?)),
        (false, false) => {
            let (first, last) = (number(first)?, number(last)?);
            (first <= last).then_some(RangeSpec::FromTo(first, last))
        }
    }
}

fn resolve(spec: RangeSpec, size: u64) -> RangeDecision {
    let span = match spec {
        RangeSpec::FromTo(first, last) if first < size => Span {
            start: first,
            len: last.min(size - 1) - first + 1,
        },
        RangeSpec::From(first) if first < size => Span {
            start: first,
            len: size - first,
        },
        RangeSpec::Last(count) if count > 0 && size > 0 => {
            let len = count.min(size);
            Span {
                start: size - len,
                len,
            }
        }
        _ => return RangeDecision::Unsatisfiable,
    };
    RangeDecision::Partial(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_range(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn partial(start: u64, len: u64) -> RangeDecision {
        RangeDecision::Partial(Span { start, len })
    }

    #[test]
    fn resolves_each_range_form() {
        let etag = "\"x\"";
        assert_eq!(decide(&with_range("bytes=0-9"), etag, 100), partial(0, 10));
        assert_eq!(
            decide(&with_range("bytes=90-200"), etag, 100),
            partial(90, 10)
        );
        assert_eq!(decide(&with_range("bytes=95-"), etag, 100), partial(95, 5));
        assert_eq!(decide(&with_range("bytes=-10"), etag, 100), partial(90, 10));
        assert_eq!(
            decide(&with_range("bytes=-500"), etag, 100),
            partial(0, 100)
        );
        assert_eq!(
            decide(&with_range("bytes=100-"), etag, 100),
            RangeDecision::Unsatisfiable
        );
        assert_eq!(
            decide(&with_range("bytes=-0"), etag, 100),
            RangeDecision::Unsatisfiable
        );
        assert_eq!(
            decide(&with_range("bytes=0-0"), etag, 0),
            RangeDecision::Unsatisfiable
        );
    }

    #[test]
    fn ignores_ranges_it_does_not_serve() {
        let etag = "\"x\"";
        for header in [
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(
                decide(&with_range(header), etag, 100),
                RangeDecision::Full,
                "{header}"
            );
        }
    }

    #[test]
    fn if_range_with_another_validator_sends_everything() {
        let mut headers = with_range("bytes=0-9");
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"other\""));
        assert_eq!(decide(&headers, "\"x\"", 100), RangeDecision::Full);
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"x\""));
        assert_eq!(decide(&headers, "\"x\"", 100), partial(0, 10));
    }

    #[test]
    fn none_match_accepts_lists_weak_tags_and_star() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"x\""),
        );
        assert!(none_match(&headers, "\"x\""));
        assert!(!none_match(&headers, "\"y\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&headers, "\"y\""));
    }
}

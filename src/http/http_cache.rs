//! HTTP caching of GET queries: a strong `ETag`, `Cache-Control` from the
//! schema's cache hints, `Vary`, and `304 Not Modified` for a client that
//! already holds the current answer. Everything else (POST, errors,
//! persisted-query misses) is `no-store`: a cached "not found" behind a
//! shared cache would break every client behind it.

use async_graphql::CacheControl;
use http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, VARY};
use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use crate::auth::Viewer;

pub const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// The validator of a body as `viewer` sees it: the tenant and role are
/// hashed in, so that another tenant's token never matches this tenant's
/// ETag even where the bodies are the same.
pub fn etag(viewer: &Viewer, body: &[u8]) -> HeaderValue {
    let digest = Sha256::new()
        .chain_update(viewer.tenant.0.as_bytes())
        .chain_update(viewer.role.as_str().as_bytes())
        .chain_update(body)
        .finalize();
    HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16]))).unwrap_or(NO_STORE)
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110
/// asks of `If-None-Match`; `*` matches anything).
pub fn not_modified(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(current) = etag.to_str() else {
        return false;
    };
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == "*" || candidate == current)
}

/// `Cache-Control` of a GET answer: the schema's hints, always `private`
/// (every answer depends on the token); without hints, `no-cache` (store,
/// but revalidate with the ETag every time).
pub fn cache_control(hints: &CacheControl) -> HeaderValue {
    let mut hints = *hints;
    hints.public = false;
    let value = hints.value().unwrap_or_default();
    let value = if value.starts_with("max-age") || value.starts_with("no-cache") {
        value
    } else {
        "no-cache, private".to_owned()
    };
    HeaderValue::from_str(&value).unwrap_or(NO_STORE)
}

/// The headers of a cacheable GET answer.
pub fn set_cacheable(headers: &mut HeaderMap, etag: HeaderValue, hints: &CacheControl) {
    headers.insert(ETAG, etag);
    headers.insert(CACHE_CONTROL, cache_control(hints));
    headers.insert(VARY, HeaderValue::from_static("Authorization, Accept"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_in_lists() {
        let etag = HeaderValue::from_static("\"abc\"");
        let mut headers = HeaderMap::new();
        assert!(!not_modified(&headers, &etag));
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"x\", W/\"abc\""));
        assert!(not_modified(&headers, &etag));
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"abd\""));
        assert!(!not_modified(&headers, &etag));
    }

    #[test]
    fn answers_are_private_and_revalidated_without_hints() {
        let none = CacheControl::default();
        assert_eq!(cache_control(&none), "no-cache, private");
        let minute = CacheControl {
            public: true,
            max_age: 60,
        };
        assert_eq!(cache_control(&minute), "max-age=60, private");
        let no_cache = CacheControl {
            public: false,
            max_age: -1,
        };
        assert_eq!(cache_control(&no_cache), "no-cache, private");
    }
}

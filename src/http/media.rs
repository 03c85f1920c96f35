//! Content negotiation for GraphQL over HTTP: `application/graphql-response+json`
//! (the spec's media type, whose status codes tell request errors apart)
//! and `application/json` (what older clients expect: 200 for any
//! well-formed GraphQL response).

use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    GraphQLResponseJson,
    Json,
}

impl ResponseMedia {
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }

    /// The media type for a response, from the request's `Accept`; `None`
    /// when the client accepts neither (406).
    ///
    /// No `Accept` means `application/json`, as the spec asks of servers
    /// during its migration period; so do `*/*` and `application/*`, which
    /// is what curl and older clients send.
    pub fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let mut best: Option<(f32, u8, Self)> = None;
        let mut any_accept = false;
        for value in headers.get_all(ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut parts = range.split(';');
                let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                if media.is_empty() {
                    continue;
                }
                any_accept = true;
                let quality = parts
                    .filter_map(|param| param.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                if quality <= 0.0 {
                    continue;
                }
                // Specific types win over wildcards at equal quality.
                let candidate = match media.as_str() {
                    GRAPHQL_RESPONSE_JSON => (2, Self::GraphQLResponseJson),
                    JSON => (1, Self::Json),
                    "application/*" | "*/*" => (0, Self::Json),
                    _ => continue,
                };
                let better = match best {
                    None => true,
                    Some((q, rank, _)) => quality > q || (quality == q && candidate.0 > rank),
                };
                if better {
                    best = Some((quality, candidate.0, candidate.1));
                }
            }
        }
        match best {
            Some((_, _, media)) => Some(media),
            None if !any_accept => Some(Self::Json),
            None => None,
        }
    }
}

/// Whether a POST body is declared as JSON (`application/json`, any
/// parameters such as `charset=utf-8`).
pub fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(accept: Option<&str>) -> Option<ResponseMedia> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        ResponseMedia::negotiate(&headers)
    }

    #[test]
    fn accept_picks_the_media_type() {
        use ResponseMedia::*;
        assert_eq!(negotiate(None), Some(Json));
        assert_eq!(negotiate(Some("*/*")), Some(Json));
        assert_eq!(negotiate(Some("application/json")), Some(Json));
        assert_eq!(
            negotiate(Some("application/graphql-response+json")),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/json, application/graphql-response+json;q=0.5"
            )),
            Some(Json)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }
}

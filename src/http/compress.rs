//! zstd for GraphQL answers, in one pass with a context each thread keeps.
//!
//! tower-http's compression layer streams every body through a new encoder:
//! for zstd that is a new context, sized for any input, per response, and
//! `ZSTD_createCCtx` alone showed at 2% of the service's CPU for
//! `OrderDetail` under `perf`. A GraphQL answer is whole in memory before
//! it is sent, so it is compressed here at once, knowing its size (zstd
//! then sizes its tables to it), with a context reused for every answer the
//! thread sends. Everything else (other encodings, other routes) stays with
//! the layer, which leaves a body alone once it has a `Content-Encoding`.

use std::cell::RefCell;

use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, VARY};
use http::{HeaderMap, HeaderValue};

use crate::http::COMPRESSION_THRESHOLD;

/// zstd's level 1: on an `OrdersPage(first: 50)` answer (37.8 kB), `zstd
/// -b1` compresses 877 MB/s to 9,815 bytes, level 2 (the other encoders')
/// 780 MB/s to 9,784 bytes: 12% faster for 0.3% more bytes
/// (`examples/instructions` counts 0.8% fewer instructions for the page,
/// the rest being the memory level 2 touches).
const LEVEL: i32 = 1;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
}

/// `body` as it should be sent to a client that sent `request` headers, and
/// the headers that then go with it.
pub fn answer(
    request: &HeaderMap,
    body: Vec<u8>,
) -> (Vec<u8>, Option<[(http::HeaderName, HeaderValue); 2]>) {
    if body.len() < usize::from(COMPRESSION_THRESHOLD) || !prefers_zstd(request) {
        return (body, None);
    }
    match compress(&body) {
        Some(compressed) => (
            compressed,
            Some([
                (CONTENT_ENCODING, HeaderValue::from_static("zstd")),
                (VARY, HeaderValue::from_static("accept-encoding")),
            ]),
        ),
        None => (body, None),
    }
}

fn compress(body: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|compressor| {
        let mut compressor = compressor.borrow_mut();
        if compressor.is_none() {
            *compressor = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        compressor.as_mut()?.compress(body).ok()
    })
}

/// Whether tower-http's negotiation would pick zstd for these headers: the
/// highest q-value among the encodings it offers (zstd, br, gzip), above
/// zero, ties going to zstd, which it prefers.
fn prefers_zstd(request: &HeaderMap) -> bool {
    let mut zstd = 0;
    let mut others = 0;
    let offers = request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for offer in offers {
        let mut parts = offer.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let Some(quality) = quality(parts.next()) else {
            continue;
        };
        if name.eq_ignore_ascii_case("zstd") {
            zstd = zstd.max(quality);
        } else if name.eq_ignore_ascii_case("br")
            || name.eq_ignore_ascii_case("gzip")
            || name.eq_ignore_ascii_case("x-gzip")
        {
            others = others.max(quality);
        }
    }
    zstd > 0 && zstd >= others
}

/// A q-value in thousandths (`q=0.5` is 500; none is 1000); `None` when
/// malformed, as tower-http then ignores the offer.
fn quality(parameter: Option<&str>) -> Option<u16> {
    let Some(parameter) = parameter else {
        return Some(1000);
    };
    let value = parameter.trim();
    let value = value
        .strip_prefix("q=")
        .or_else(|| value.strip_prefix("Q="))?;
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|digit| digit.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn zstd_is_picked_where_the_layer_would_pick_it() {
        assert!(prefers_zstd(&offers("gzip, deflate, br, zstd")));
        assert!(prefers_zstd(&offers("zstd;q=0.8, gzip;q=0.8")));
        assert!(!prefers_zstd(&offers("gzip, br")));
        assert!(!prefers_zstd(&offers("gzip;q=1, zstd;q=0.5")));
        assert!(!prefers_zstd(&offers("zstd;q=0")));
        assert!(!prefers_zstd(&offers("zstd;q=2")));
        assert!(!prefers_zstd(&HeaderMap::new()));
    }

    #[test]
    fn q_values_are_read_as_rfc_9110_writes_them() {
        assert_eq!(quality(None), Some(1000));
        assert_eq!(quality(Some("q=0.5")), Some(500));
        assert_eq!(quality(Some(" Q=0.125")), Some(125));
        assert_eq!(quality(Some("q=1.000")), Some(1000));
        assert_eq!(quality(Some("q=1.5")), None);
        assert_eq!(quality(Some("q=0.1234")), None);
        assert_eq!(quality(Some("level=1")), None);
    }

    #[test]
    fn answers_come_back_whole_from_zstd() {
        let body = serde_json::to_vec(&vec!["an order"; 400]).unwrap();
        let (sent, headers) = answer(&offers("br, zstd"), body.clone());
        assert!(headers.is_some());
        assert!(sent.len() < body.len());
        assert_eq!(zstd::bulk::decompress(&sent, body.len()).unwrap(), body);

        let small = b"{\"data\":null}".to_vec();
        assert_eq!(answer(&offers("zstd"), small.clone()), (small, None));
    }
}

//! Opaque keyset cursors: the sort value and id of a list's last row,
//! tagged with the list and ordering they belong to, so that a cursor from
//! another list or ordering (or a tampered one) is refused rather than
//! silently skipping rows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::models::order::{OrderKey, OrderSort};
use crate::db::models::shipment::ShipmentKey;
use crate::error::AppError;

/// The most rows one page may ask for (contract).
pub const MAX_PAGE_SIZE: i32 = 100;

/// `first` checked against the contract's bounds.
pub fn page_size(first: i32) -> Result<i64, AppError> {
    if !(0..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::bad_input(format!(
            "`first` must be between 0 and {MAX_PAGE_SIZE}, not {first}"
        )));
    }
    Ok(first.into())
}

fn encode(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("|"))
}

fn decode(cursor: &str) -> Result<Vec<String>, AppError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| malformed(cursor))?;
    let text = String::from_utf8(bytes).map_err(|_| malformed(cursor))?;
    Ok(text.split('|').map(str::to_owned).collect())
}

fn malformed(cursor: &str) -> AppError {
    AppError::bad_input(format!(
        "`{cursor}` is not a cursor of this list: pass an `endCursor` this list returned, or omit `after`"
    ))
}

fn instant(micros: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros.parse().ok()?)
}

pub fn encode_order(key: &OrderKey) -> String {
    match key {
        OrderKey::CreatedAt(at, id) => encode(&[
            "order",
            "created_at",
            &at.timestamp_micros().to_string(),
            &id.to_string(),
        ]),
        OrderKey::Total(total, id) => {
            encode(&["order", "total", &total.to_string(), &id.to_string()])
        }
    }
}

/// The key in an orders cursor, which must have been made for `sort`.
pub fn decode_order(cursor: &str, sort: OrderSort) -> Result<OrderKey, AppError> {
    let parts = decode(cursor)?;
    let key = match parts.as_slice() {
        [list, field, value, id] if list == "order" => {
            let id = Uuid::parse_str(id).map_err(|_| malformed(cursor))?;
            match field.as_str() {
                "created_at" => {
                    OrderKey::CreatedAt(instant(value).ok_or_else(|| malformed(cursor))?, id)
                }
                "total" => OrderKey::Total(value.parse().map_err(|_| malformed(cursor))?, id),
                _ => return Err(malformed(cursor)),
            }
        }
        _ => return Err(malformed(cursor)),
    };
    if key.sort() != sort {
        return Err(AppError::bad_input(
            "this cursor was made for another `orderBy`: keep the ordering while paginating, or omit `after`",
        ));
    }
    Ok(key)
}

pub fn encode_shipment(key: ShipmentKey) -> String {
    encode(&[
        "shipment",
        "created_at",
        &key.0.timestamp_micros().to_string(),
        &key.1.to_string(),
    ])
}

pub fn decode_shipment(cursor: &str) -> Result<ShipmentKey, AppError> {
    match decode(cursor)?.as_slice() {
        [list, field, value, id] if list == "shipment" && field == "created_at" => Ok(ShipmentKey(
            instant(value).ok_or_else(|| malformed(cursor))?,
            Uuid::parse_str(id).map_err(|_| malformed(cursor))?,
        )),
        _ => Err(malformed(cursor)),
    }
}

pub fn encode_audit_log(id: i64) -> String {
    encode(&["audit_log", "id", &id.to_string()])
}

pub fn decode_audit_log(cursor: &str) -> Result<i64, AppError> {
    match decode(cursor)?.as_slice() {
        [list, field, value] if list == "audit_log" && field == "id" => {
            value.parse().map_err(|_| malformed(cursor))
        }
        _ => Err(malformed(cursor)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::amount::Amount;

    #[test]
    fn order_cursors_round_trip_exactly() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let key = OrderKey::CreatedAt(at, Uuid::new_v4());
        assert_eq!(
            decode_order(&encode_order(&key), OrderSort::CreatedAt).unwrap(),
            key
        );
        let key = OrderKey::Total(Amount::from_cents(12990), Uuid::new_v4());
        assert_eq!(
            decode_order(&encode_order(&key), OrderSort::Total).unwrap(),
            key
        );
    }

    #[test]
    fn cursors_of_another_list_or_ordering_are_refused() {
        let at = Utc::now();
        let shipment = encode_shipment(ShipmentKey(at, Uuid::new_v4()));
        assert!(decode_order(&shipment, OrderSort::CreatedAt).is_err());
        let order = encode_order(&OrderKey::CreatedAt(at, Uuid::new_v4()));
        assert!(decode_order(&order, OrderSort::Total).is_err());
        assert!(decode_shipment(&order).is_err());
        for tampered in ["", "abc", "b3JkZXJ8Y3JlYXRlZF9hdHx4fHk"] {
            assert!(decode_order(tampered, OrderSort::CreatedAt).is_err());
        }
    }

    #[test]
    fn page_sizes_outside_the_contract_are_refused() {
        assert!(page_size(-1).is_err());
        assert!(page_size(101).is_err());
        assert_eq!(page_size(0).unwrap(), 0);
        assert_eq!(page_size(100).unwrap(), 100);
    }
}

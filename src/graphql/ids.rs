//! Global object ids: opaque to clients, `base64url("<Type>:<uuid>")` inside,
//! so that `node(id:)` knows which table to read and a cursor or id from
//! one type is never mistaken for another's.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use crate::error::AppError;

/// The types that implement `Node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Order,
    OrderItem,
    Shipment,
    Invoice,
    Product,
}

impl NodeKind {
    const ALL: [Self; 5] = [
        Self::Order,
        Self::OrderItem,
        Self::Shipment,
        Self::Invoice,
        Self::Product,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Order => "Order",
            Self::OrderItem => "OrderItem",
            Self::Shipment => "Shipment",
            Self::Invoice => "Invoice",
            Self::Product => "Product",
        }
    }
}

/// A decoded global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub id: Uuid,
}

impl GlobalId {
    pub fn encode(kind: NodeKind, id: Uuid) -> ID {
        let mut text = String::with_capacity(64);
        Self::encode_into(kind, id, &mut text);
        ID(text)
    }

    /// Appends the id of `kind` and `id` to `out`, as [`Self::encode`] writes
    /// it: base64url, so nothing in it needs escaping in JSON.
    pub fn encode_into(kind: NodeKind, id: Uuid, out: &mut String) {
        // `<Type>:<uuid>`, the longest name being `OrderItem`.
        let mut raw = [0u8; 10 + Hyphenated::LENGTH];
        let name = kind.name().as_bytes();
        raw[..name.len()].copy_from_slice(name);
        raw[name.len()] = b':';
        let end = name.len() + 1 + Hyphenated::LENGTH;
        id.hyphenated().encode_lower(&mut raw[name.len() + 1..end]);
        // Into a buffer on the stack: `encode_string` goes through the
        // chunked encoder, which clears a 1 kB buffer for every id.
        let mut encoded = [0u8; 64];
        let written = URL_SAFE_NO_PAD
            .encode_slice(&raw[..end], &mut encoded)
            .expect("64 bytes hold the base64 of 46");
        out.push_str(std::str::from_utf8(&encoded[..written]).expect("base64 is ASCII"));
    }

    /// Any id this service could have issued; anything else is
    /// `BAD_USER_INPUT`.
    pub fn decode(id: &str) -> Result<Self, AppError> {
        let malformed = || AppError::bad_input(format!("`{id}` is not a valid id"));
        let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| malformed())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| malformed())?;
        let (name, uuid) = text.split_once(':').ok_or_else(malformed)?;
        let kind = NodeKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(malformed)?;
        let id = Uuid::parse_str(uuid).map_err(|_| malformed())?;
        Ok(Self { kind, id })
    }

    /// The row id of an id that must be of `kind`.
    pub fn decode_as(id: &str, kind: NodeKind) -> Result<Uuid, AppError> {
        let global = Self::decode(id)?;
        if global.kind != kind {
            return Err(AppError::bad_input(format!(
                "`{id}` is the id of a {}, not of a {}",
                global.kind.name(),
                kind.name()
            )));
        }
        Ok(global.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_decodes_to_what_was_encoded() {
        let uuid = Uuid::new_v4();
        let id = GlobalId::encode(NodeKind::Shipment, uuid);
        assert_eq!(
            GlobalId::decode(&id).unwrap(),
            GlobalId {
                kind: NodeKind::Shipment,
                id: uuid
            }
        );
    }

    #[test]
    fn ids_are_base64url_of_the_type_and_the_uuid() {
        for kind in NodeKind::ALL {
            let uuid = Uuid::new_v4();
            assert_eq!(
                GlobalId::encode(kind, uuid).0,
                URL_SAFE_NO_PAD.encode(format!("{}:{uuid}", kind.name()))
            );
        }
    }

    #[test]
    fn malformed_and_mistyped_ids_are_bad_input() {
        for id in ["", "x", "T3JkZXI6", "!!!", "Rm9vOjEyMw"] {
            assert!(
                matches!(GlobalId::decode(id), Err(AppError::BadUserInput(_))),
                "{id}"
            );
        }
        let shipment = GlobalId::encode(NodeKind::Shipment, Uuid::new_v4());
        assert!(matches!(
            GlobalId::decode_as(&shipment, NodeKind::Order),
            Err(AppError::BadUserInput(_))
        ));
    }
}

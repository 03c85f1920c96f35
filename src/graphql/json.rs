//! JSON text, written as serde_json writes it, straight from the service's
//! values: the plain objects' answers (`graphql::plain`) and the bodies that
//! carry them (`http::graphql`).
//!
//! A plain object is written once, as text, and travels in the answer's
//! value tree as a raw value (async-graphql's convention, `raw_value`: an
//! object whose only key is `RAW_VALUE_TOKEN`). [`Json::value`] copies such
//! text as it is; a serializer that does not know it is ours (serde_json,
//! through async-graphql's `Serialize`) still writes it correctly, after
//! validating it. Building the page as a tree of values and serializing
//! the tree was a fifth of the service's instructions for `OrdersPage`.

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value};
use async_graphql_value::RAW_VALUE_TOKEN;
use serde::Serialize;

/// JSON text being written. Methods that write a value return `true`, so
/// that a plain field's resolver reads as one expression per field.
#[derive(Debug, Default)]
pub struct Json {
    text: String,
}

impl Json {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            text: String::with_capacity(capacity),
        }
    }

    /// Bytes written so far: a mark to go back to with [`Self::truncate`].
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Room for `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) {
        self.text.reserve(additional);
    }

    /// Forgets what was written after `mark`.
    pub fn truncate(&mut self, mark: usize) {
        self.text.truncate(mark);
    }

    /// The text, as a value to place in an answer.
    pub fn into_value(self) -> Value {
        raw(self.text)
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }

    pub fn open_object(&mut self) {
        self.text.push('{');
    }

    pub fn close_object(&mut self) {
        self.text.push('}');
    }

    pub fn open_list(&mut self) {
        self.text.push('[');
    }

    pub fn close_list(&mut self) {
        self.text.push(']');
    }

    pub fn comma(&mut self) {
        self.text.push(',');
    }

    /// `"key":`, for a GraphQL name (a response key, an alias): those are
    /// `[_A-Za-z][_0-9A-Za-z]*`, nothing to escape, so the answer's keys
    /// skip the scan every string value needs.
    pub fn key(&mut self, key: &str) {
        debug_assert!(!needs_escaping(key.as_bytes()), "not a GraphQL name: {key}");
        self.text.reserve(key.len() + 3);
        self.text.push('"');
        self.text.push_str(key);
        self.text.push_str("\":");
    }

    pub fn null(&mut self) -> bool {
        self.text.push_str("null");
        true
    }

    pub fn boolean(&mut self, value: bool) -> bool {
        self.text.push_str(if value { "true" } else { "false" });
        true
    }

    pub fn int(&mut self, value: i64) -> bool {
        self.text.push_str(itoa::Buffer::new().format(value));
        true
    }

    /// A string, quoted and escaped.
    pub fn string(&mut self, text: &str) -> bool {
        if needs_escaping(text.as_bytes()) {
            // serde_json's escapes, exactly; rare in the service's data.
            self.serialized(text);
        } else {
            self.text.reserve(text.len() + 2);
            self.text.push('"');
            self.text.push_str(text);
            self.text.push('"');
        }
        true
    }

    /// A string that `write` appends, of characters that need no escaping
    /// (base64, digits, punctuation of numbers and instants).
    pub fn unescaped(&mut self, write: impl FnOnce(&mut String)) -> bool {
        self.text.push('"');
        write(&mut self.text);
        self.text.push('"');
        true
    }

    pub fn optional_string(&mut self, text: Option<&str>) -> bool {
        match text {
            Some(text) => self.string(text),
            None => self.null(),
        }
    }

    /// A nullable value, written by `write` when present.
    pub fn optional<T>(
        &mut self,
        value: Option<T>,
        write: impl FnOnce(&mut Self, T) -> bool,
    ) -> bool {
        match value {
            Some(value) => write(self, value),
            None => self.null(),
        }
    }

    /// Anything serde can serialize (errors, extensions), as serde_json
    /// writes it.
    pub fn serialized(&mut self, value: &(impl Serialize + ?Sized)) {
        match serde_json::to_string(value) {
            Ok(text) => self.text.push_str(&text),
            // Serializing values without maps keyed by non-strings does
            // not fail; should one, it is an absent value, not a broken
            // answer.
            Err(_) => self.text.push_str("null"),
        }
    }

    /// An async-graphql value, as its `Serialize` writes it, raw values
    /// copied as they are.
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Null => {
                self.null();
            }
            Value::Boolean(value) => {
                self.boolean(*value);
            }
            Value::String(text) => {
                self.string(text);
            }
            Value::Enum(name) => {
                self.string(name);
            }
            Value::Number(number) => self.serialized(number),
            Value::Binary(bytes) => self.serialized(&bytes[..]),
            Value::List(items) => {
                self.open_list();
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.comma();
                    }
                    self.value(item);
                }
                self.close_list();
            }
            Value::Object(fields) => match raw_text(fields) {
                Some(text) => self.text.push_str(text),
                None => {
                    self.open_object();
                    for (index, (name, value)) in fields.iter().enumerate() {
                        if index > 0 {
                            self.comma();
                        }
                        // A JSON scalar's keys are any text.
                        self.string(name);
                        self.text.push(':');
                        self.value(value);
                    }
                    self.close_object();
                }
            },
        }
    }
}

/// Whether `bytes` hold a character JSON escapes (a control character, a
/// quote, a backslash), eight bytes at a time: this scan runs over every
/// string of every answer.
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte of `word` below `n` (n <= 0x80) sets its high bit here.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let (words, rest) = bytes.as_chunks::<8>();
    words.iter().any(|word| {
        let word = u64::from_ne_bytes(*word);
        below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            != 0
    }) || rest
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// A value that is this JSON text.
pub fn raw(text: String) -> Value {
    let mut fields = IndexMap::with_capacity(1);
    fields.insert(Name::new(RAW_VALUE_TOKEN), Value::String(text));
    Value::Object(fields)
}

/// The length of the raw values' text in `value`: what writing it copies.
pub fn raw_len(value: &Value) -> usize {
    match value {
        Value::List(items) => items.iter().map(raw_len).sum(),
        Value::Object(fields) => match raw_text(fields) {
            Some(text) => text.len(),
            None => fields.values().map(raw_len).sum(),
        },
        _ => 0,
    }
}

/// The text of a raw value's object.
fn raw_text(fields: &IndexMap<Name, Value>) -> Option<&str> {
    if fields.len() != 1 {
        return None;
    }
    match fields.get(RAW_VALUE_TOKEN) {
        Some(Value::String(text)) => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Number;

    fn written(value: &Value) -> String {
        let mut json = Json::default();
        json.value(value);
        String::from_utf8(json.into_bytes()).unwrap()
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let mut object = IndexMap::new();
        object.insert(Name::new("a"), Value::Number(Number::from(-12)));
        object.insert(
            Name::new("b"),
            Value::Number(Number::from_f64(1.5).unwrap()),
        );
        object.insert(
            Name::new("c"),
            Value::String("quote \" slash \\ tab \t bell \u{7} é ✓ /".into()),
        );
        object.insert(Name::new("d"), Value::Enum(Name::new("PENDING")));
        object.insert(
            Name::new("e"),
            Value::List(vec![
                Value::Null,
                Value::Boolean(true),
                Value::Boolean(false),
            ]),
        );
        object.insert(Name::new("f"), Value::Object(IndexMap::new()));
        object.insert(Name::new("g"), Value::Binary(vec![1u8, 2].into()));
        let value = Value::Object(object);
        assert_eq!(written(&value), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn raw_values_are_copied_as_they_are() {
        let mut object = IndexMap::new();
        object.insert(Name::new("page"), raw(r#"{"id":"1","items":[]}"#.into()));
        let value = Value::Object(object);
        assert_eq!(written(&value), r#"{"page":{"id":"1","items":[]}}"#);
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "plain",
            "",
            "a\"b",
            "line\nbreak",
            "\u{1f}",
            "back\\slash",
            "ünï",
            "a string longer than eight bytes, with a \" late",
            "eight by",
            "seventeen bytes\t!",
            "\u{7f} and \u{80}: not escaped",
        ] {
            let mut json = Json::default();
            json.string(text);
            assert_eq!(
                String::from_utf8(json.into_bytes()).unwrap(),
                serde_json::to_string(text).unwrap()
            );
        }
    }
}

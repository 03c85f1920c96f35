//! A document's normal form, for safelist mode: its tokens without
//! whitespace, commas or comments, its top-level definitions sorted. Two
//! texts of the same operations, however formatted or ordered, have the
//! same normal form and so the same hash.

use sha2::{Digest, Sha256};

/// The hex sha256 of `text` as sent (the `sha256:<hash>` id, APQ's hash).
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The hex sha256 of the normal form, or `None` when the text does not even
/// tokenize (it cannot be a registered document then).
pub fn normalized_sha256(text: &str) -> Option<String> {
    normal_form(text).map(|form| sha256_hex(&form))
}

/// The definitions' tokens, one definition per line, lines sorted.
pub fn normal_form(text: &str) -> Option<String> {
    let tokens = tokens(text)?;
    let mut definitions: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let (mut braces, mut parens) = (0i32, 0i32);
    for token in tokens {
        match token {
            "{" => braces += 1,
            "}" => braces -= 1,
            "(" => parens += 1,
            ")" => parens -= 1,
            _ => {}
        }
        current.push(token);
        if token == "}" && braces == 0 && parens == 0 {
            definitions.push(current.join(" "));
            current.clear();
        }
        if braces < 0 || parens < 0 {
            return None;
        }
    }
    if !current.is_empty() {
        definitions.push(current.join(" "));
    }
    definitions.sort();
    Some(definitions.join("\n"))
}

/// How many lexical tokens `text` has, or `None` when it does not
/// tokenize.
pub fn count_tokens(text: &str) -> Option<usize> {
    tokens(text).map(|tokens| tokens.len())
}

/// GraphQL's lexical tokens of `text`, ignoring what the spec ignores.
fn tokens(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => at += 1,
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    at += 1;
                }
            }
            b'.' if text[at..].starts_with("...") => {
                tokens.push(&text[at..at + 3]);
                at += 3;
            }
            b'!' | b'$' | b'&' | b'(' | b')' | b':' | b'=' | b'@' | b'[' | b']' | b'{' | b'|'
            | b'}' => {
                tokens.push(&text[at..at + 1]);
                at += 1;
            }
            b'"' => {
                let end = string_end(text, at)?;
                tokens.push(&text[at..end]);
                at = end;
            }
            b'-' | b'0'..=b'9' | b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let start = at;
                at += 1;
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || matches!(bytes[at], b'_' | b'.' | b'+' | b'-'))
                {
                    // A number's `.`, `e+`/`e-` stay in it; a name has none
                    // of these (the parser rejects what this lets through).
                    if bytes[at] == b'.' && text[at..].starts_with("...") {
                        break;
                    }
                    at += 1;
                }
                tokens.push(&text[start..at]);
            }
            0xEF if text[at..].starts_with('\u{FEFF}') => at += '\u{FEFF}'.len_utf8(),
            _ => return None,
        }
    }
    Some(tokens)
}

/// Where the string starting at `start` ends (exclusive).
fn string_end(text: &str, start: usize) -> Option<usize> {
    if text[start..].starts_with("\"\"\"") {
        let mut at = start + 3;
        loop {
            let rest = &text[at..];
            if rest.starts_with("\\\"\"\"") {
                at += 4;
            } else if rest.starts_with("\"\"\"") {
                return Some(at + 3);
            } else {
                at += rest.chars().next()?.len_utf8();
            }
        }
    }
    let mut at = start + 1;
    loop {
        let rest = &text[at..];
        let c = rest.chars().next()?;
        match c {
            '\\' => at += 1 + rest[1..].chars().next()?.len_utf8(),
            '"' => return Some(at + 1),
            '\n' | '\r' => return None,
            _ => at += c.len_utf8(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_comments_and_definition_order_do_not_matter() {
        let a = "query A($id: ID!) { order(id: $id) { ...F } }\nfragment F on Order { id status }";
        let b = "# the frontend's\nfragment F on Order {\n  id,\n  status\n}\n\nquery A( $id : ID! ) {\n  order(id: $id) { ...F }\n}\n";
        assert_eq!(normal_form(a), normal_form(b));
        assert_eq!(normalized_sha256(a), normalized_sha256(b));
    }

    #[test]
    fn different_operations_differ() {
        let a = "{ orders(first: 10) { edges { cursor } } }";
        let b = "{ orders(first: 11) { edges { cursor } } }";
        let c = r#"{ orders(filter: {customerEmailContains: "a b"}) { edges { cursor } } }"#;
        let d = r#"{ orders(filter: {customerEmailContains: "ab"}) { edges { cursor } } }"#;
        assert_ne!(normal_form(a), normal_form(b));
        assert_ne!(
            normal_form(c),
            normal_form(d),
            "spaces inside strings matter"
        );
    }

    #[test]
    fn object_values_in_arguments_do_not_end_a_definition() {
        let form = normal_form("query Q($f: OrderFilter = {status: [PENDING]}) { orders(filter: $f) { pageInfo { hasNextPage } } }").unwrap();
        assert_eq!(form.lines().count(), 1, "{form}");
    }

    #[test]
    fn text_that_does_not_tokenize_has_no_normal_form() {
        assert_eq!(normal_form("{ a(b: \"unterminated) }"), None);
        assert_eq!(normal_form("{ a } }"), None);
        assert_eq!(normal_form("{ ~ }"), None);
    }

    #[test]
    fn block_strings_and_escapes_are_one_token() {
        let tokens = tokens(r#"{ a(b: """x "quoted" \""" y""", c: "q\"r") }"#).unwrap();
        assert!(tokens.contains(&r#""""x "quoted" \""" y""""#), "{tokens:?}");
        assert!(tokens.contains(&r#""q\"r""#), "{tokens:?}");
    }
}

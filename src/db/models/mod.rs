//! Rows, insertables and the queries over them: one file per table. Every
//! query over a tenant-owned table takes the [`TenantId`](super::TenantId)
//! and filters on it. Functions return `diesel::QueryResult`; callers decide
//! what an error means.

pub mod audit_log;
pub mod invoice;
pub mod order;
pub mod order_item;
pub mod order_stats;
pub mod persisted_document;
pub mod product;
pub mod shipment;
pub mod tenant;
pub mod tenant_rate_limit;
pub mod user;

pub use audit_log::{AuditLog, NewAuditLog};
pub use invoice::Invoice;
pub use order::Order;
pub use order_item::OrderItem;
pub use order_stats::DailyOrderStats;
pub use product::Product;
pub use shipment::Shipment;
pub use tenant::Tenant;
pub use user::User;

use std::collections::HashMap;
use std::hash::Hash;

/// Groups rows by a key, keeping their order: a DataLoader's answer for
/// "the items of each of these orders".
pub fn group_by<K: Hash + Eq, T>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut groups: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

/// `%text%` for `ILIKE`, with the pattern's own wildcards escaped so that a
/// search for `a_b` finds `a_b` and not `axb`.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_a_search_are_taken_literally() {
        assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(contains_pattern("shop"), "%shop%");
    }
}

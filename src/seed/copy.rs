//! Rows as PostgreSQL `COPY ... FROM STDIN` text: tab-separated, `\N` for
//! null, one row per line.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::generate::{
    DayRows, InvoiceRow, ItemRow, OrderRow, ProductRow, ShipmentRow, TenantRow, UserRow,
};

/// The four bulk tables, loaded one after another (each later one refers
/// to orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkTable {
    Orders,
    OrderItems,
    Shipments,
    Invoices,
}

impl BulkTable {
    pub const ALL: [Self; 4] = [
        Self::Orders,
        Self::OrderItems,
        Self::Shipments,
        Self::Invoices,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::OrderItems => "order_items",
            Self::Shipments => "shipments",
            Self::Invoices => "invoices",
        }
    }

    pub fn copy_statement(self) -> &'static str {
        match self {
            Self::Orders => {
                "COPY orders (id, tenant_id, bl_order_id, external_order_no, status, total, currency, \
                 customer_email, created_at, confirmed_at, updated_at) FROM STDIN"
            }
            Self::OrderItems => {
                "COPY order_items (id, tenant_id, order_id, sku, name, quantity, unit_price, created_at) FROM STDIN"
            }
            Self::Shipments => {
                "COPY shipments (id, tenant_id, order_id, carrier, tracking_no, status, shipped_at, \
                 delivered_at, created_at) FROM STDIN"
            }
            Self::Invoices => {
                "COPY invoices (id, tenant_id, order_id, number, total, currency, issued_at) FROM STDIN"
            }
        }
    }

    /// Appends this table's rows of `day` to `out`; returns how many.
    pub fn encode(self, day: &DayRows, out: &mut String) -> usize {
        match self {
            Self::Orders => day.orders.iter().map(|row| encode_order(row, out)).count(),
            Self::OrderItems => day.items.iter().map(|row| encode_item(row, out)).count(),
            Self::Shipments => day
                .shipments
                .iter()
                .map(|row| encode_shipment(row, out))
                .count(),
            Self::Invoices => day
                .invoices
                .iter()
                .map(|row| encode_invoice(row, out))
                .count(),
        }
    }
}

/// One row's fields, written in order.
struct Row<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Row<'a> {
    fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    fn separator(&mut self) {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
    }

    fn text(mut self, value: &str) -> Self {
        self.separator();
        for c in value.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                c => self.out.push(c),
            }
        }
        self
    }

    fn null(mut self) -> Self {
        self.separator();
        self.out.push_str("\\N");
        self
    }

    fn opt_text(self, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    fn display(mut self, value: impl std::fmt::Display) -> Self {
        self.separator();
        let _ = write!(self.out, "{value}");
        self
    }

    fn uuid(self, value: Uuid) -> Self {
        self.display(value)
    }

    fn cents(mut self, value: i64) -> Self {
        self.separator();
        let sign = if value < 0 { "-" } else { "" };
        let _ = write!(
            self.out,
            "{sign}{}.{:02}",
            value.abs() / 100,
            value.abs() % 100
        );
        self
    }

    fn instant(self, value: DateTime<Utc>) -> Self {
        self.display(value.format("%Y-%m-%d %H:%M:%S%.6f+00"))
    }

    fn opt_instant(self, value: Option<DateTime<Utc>>) -> Self {
        match value {
            Some(value) => self.instant(value),
            None => self.null(),
        }
    }

    fn end(self) {
        self.out.push('\n');
    }
}

fn encode_order(row: &OrderRow, out: &mut String) {
    let row_out = Row::new(out).uuid(row.id).uuid(row.tenant_id);
    let row_out = match row.bl_order_id {
        Some(id) => row_out.display(id),
        None => row_out.null(),
    };
    row_out
        .opt_text(row.external_order_no.as_deref())
        .text(row.status.as_str())
        .cents(row.total_cents)
        .text(row.currency)
        .opt_text(row.customer_email.as_deref())
        .instant(row.created_at)
        .opt_instant(row.confirmed_at)
        .instant(row.updated_at)
        .end();
}

fn encode_item(row: &ItemRow, out: &mut String) {
    Row::new(out)
        .uuid(row.id)
        .uuid(row.tenant_id)
        .uuid(row.order_id)
        .text(&row.sku)
        .text(&row.name)
        .display(row.quantity)
        .cents(row.unit_price_cents)
        .instant(row.created_at)
        .end();
}

fn encode_shipment(row: &ShipmentRow, out: &mut String) {
    Row::new(out)
        .uuid(row.id)
        .uuid(row.tenant_id)
        .uuid(row.order_id)
        .text(row.carrier)
        .text(&row.tracking_no)
        .text(row.status.as_str())
        .opt_instant(row.shipped_at)
        .opt_instant(row.delivered_at)
        .instant(row.created_at)
        .end();
}

fn encode_invoice(row: &InvoiceRow, out: &mut String) {
    Row::new(out)
        .uuid(row.id)
        .uuid(row.tenant_id)
        .uuid(row.order_id)
        .text(&row.number)
        .cents(row.total_cents)
        .text(row.currency)
        .instant(row.issued_at)
        .end();
}

pub fn encode_tenant(row: &TenantRow, out: &mut String) {
    Row::new(out)
        .uuid(row.id)
        .text(&row.slug)
        .text(&row.name)
        .instant(row.created_at)
        .end();
}

pub fn encode_user(row: &UserRow, out: &mut String) {
    Row::new(out)
        .uuid(row.id)
        .uuid(row.tenant_id)
        .text(&row.email)
        .text(row.role.as_str())
        .instant(row.created_at)
        .end();
}

pub fn encode_product(row: &ProductRow, out: &mut String) {
    Row::new(out)
        .uuid(row.id)
        .uuid(row.tenant_id)
        .text(&row.sku)
        .text(&row.name)
        .cents(row.price_cents)
        .instant(row.created_at)
        .end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_escape_copy_delimiters() {
        let mut out = String::new();
        Row::new(&mut out)
            .text("a\tb\\c\nd")
            .null()
            .cents(12990)
            .cents(5)
            .end();
        assert_eq!(out, "a\\tb\\\\c\\nd\t\\N\t129.90\t0.05\n");
    }
}

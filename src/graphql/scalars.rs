//! The contract's scalars: `Decimal` (money, a string with two decimals),
//! `DateTime` (RFC 3339, UTC), `Date` (`YYYY-MM-DD`), and `BigInt` (64-bit
//! integers as strings, as JavaScript numbers lose digits past 2^53).

use std::str::FromStr;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use bigdecimal::{BigDecimal, RoundingMode};
use chrono::{NaiveDate, SecondsFormat, Utc};

use crate::db::amount::Amount;

/// An amount of money: a JSON string with exactly two decimals, e.g. `"129.90"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(pub BigDecimal);

impl From<BigDecimal> for Decimal {
    fn from(value: BigDecimal) -> Self {
        Self(value)
    }
}

impl From<Amount> for Decimal {
    fn from(amount: Amount) -> Self {
        Self(amount.to_big_decimal())
    }
}

#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        let decimal = BigDecimal::from_str(text.trim())
            .map_err(|_| InputValueError::custom(format!("`{text}` is not a decimal number")))?;
        if decimal.fractional_digit_count() > 2 {
            return Err(InputValueError::custom(format!(
                "`{text}` has more than two decimals"
            )));
        }
        Ok(Self(decimal))
    }

    fn to_value(&self) -> Value {
        Value::String(Self::text(&self.0))
    }
}

impl Decimal {
    /// How an amount is written, without a copy of it first.
    pub fn text(amount: &BigDecimal) -> String {
        let mut text = String::with_capacity(16);
        Self::write(amount, &mut text);
        text
    }

    /// Appends how an amount is written to `out`: digits, a sign and a
    /// point only. In cents as an integer where it fits (every amount the
    /// service holds), which is several times cheaper than BigDecimal's own
    /// formatting of its big integer.
    pub fn write(amount: &BigDecimal, out: &mut String) {
        let rounded = amount.with_scale_round(2, RoundingMode::HalfUp);
        let (cents, scale) = rounded.as_bigint_and_scale();
        match i64::try_from(cents.as_ref()) {
            Ok(cents) if scale == 2 => Amount::from_cents(cents).write(out),
            _ => out.push_str(&rounded.to_plain_string()),
        }
    }
}

/// An instant: RFC 3339 in UTC, e.g. `"2026-11-25T10:18:45.123456Z"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(value: chrono::DateTime<Utc>) -> Self {
        Self(value)
    }
}

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|instant| Self(instant.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!("`{text}` is not an RFC 3339 instant"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(Self::text(self.0))
    }
}

impl DateTime {
    /// How an instant is written.
    pub fn text(instant: chrono::DateTime<Utc>) -> String {
        instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// Appends how an instant is written to `out`: digits and punctuation.
    pub fn write(instant: chrono::DateTime<Utc>, out: &mut String) {
        out.push_str(&Self::text(instant));
    }
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Self)
                .map_err(|_| InputValueError::custom(format!("`{text}` is not a YYYY-MM-DD date"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A 64-bit integer, sent as a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BigInt(pub i64);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text
                .parse()
                .map(Self)
                .map_err(|_| InputValueError::custom(format!("`{text}` is not a 64-bit integer"))),
            Value::Number(number) => number
                .as_i64()
                .map(Self)
                .ok_or_else(|| InputValueError::custom("not a 64-bit integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_always_has_two_decimals() {
        let value = |text: &str| Decimal(BigDecimal::from_str(text).unwrap()).to_value();
        assert_eq!(value("129.9"), Value::String("129.90".into()));
        assert_eq!(value("0"), Value::String("0.00".into()));
        assert_eq!(value("10.015"), Value::String("10.02".into()));
        assert_eq!(value("1E+3"), Value::String("1000.00".into()));
        assert_eq!(value("-0.5"), Value::String("-0.50".into()));
        assert_eq!(value("-12.345"), Value::String("-12.35".into()));
        assert_eq!(
            value("123456789012345678901234.5"),
            Value::String("123456789012345678901234.50".into())
        );
        for text in ["0.01", "7.1", "99999.99", "-3", "0.005", "1.999"] {
            let amount = BigDecimal::from_str(text).unwrap();
            assert_eq!(
                Decimal::text(&amount),
                amount
                    .with_scale_round(2, RoundingMode::HalfUp)
                    .to_plain_string(),
                "{text}"
            );
        }
    }

    #[test]
    fn money_with_three_decimals_is_refused() {
        assert!(Decimal::parse(Value::String("1.234".into())).is_err());
        assert!(Decimal::parse(Value::String("abc".into())).is_err());
        assert!(Decimal::parse(Value::String("12.30".into())).is_ok());
    }

    #[test]
    fn instants_are_utc_rfc3339() {
        let instant = chrono::DateTime::parse_from_rfc3339("2026-11-25T12:00:00.5+02:00").unwrap();
        let value = DateTime(instant.with_timezone(&Utc)).to_value();
        assert_eq!(value, Value::String("2026-11-25T10:00:00.500Z".into()));
    }
}

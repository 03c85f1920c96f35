//! Amounts of money as the tables hold them (`numeric(12, 2)`), in cents.
//!
//! diesel reads a `numeric` into a `BigDecimal`: a big integer built from
//! the base-10000 digits, then divided to its scale. A page of 50 orders
//! holds about 170 amounts, and reading them so, with writing them back
//! as text, was 5% of `OrdersPage`'s instructions. Every amount column is
//! `numeric(12, 2)`: two decimals and at most ten digits before them,
//! which an `i64` of cents holds exactly. Anything else (more decimals, a
//! NaN) is refused, not rounded.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Numeric;

/// An amount of money, in cents.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Numeric)]
pub struct Amount {
    cents: i64,
}

/// `numeric`'s sign field (PostgreSQL's `numeric.c`).
const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
/// A `numeric` digit: four decimal digits.
const BASE: i64 = 10_000;

impl Amount {
    pub const fn from_cents(cents: i64) -> Self {
        Self { cents }
    }

    pub const fn cents(self) -> i64 {
        self.cents
    }

    /// Appends the amount as the API writes it, two decimals always:
    /// `129.90`, `-0.05`.
    pub fn write(self, out: &mut String) {
        if self.cents < 0 {
            out.push('-');
        }
        let cents = self.cents.unsigned_abs();
        out.push_str(itoa::Buffer::new().format(cents / 100));
        out.push('.');
        let fraction = cents % 100;
        if fraction < 10 {
            out.push('0');
        }
        out.push_str(itoa::Buffer::new().format(fraction));
    }

    pub fn to_big_decimal(self) -> BigDecimal {
        BigDecimal::new(self.cents.into(), 2)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(24);
        self.write(&mut text);
        formatter.write_str(&text)
    }
}

/// Text that is not an amount of at most two decimals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an amount with at most two decimals")]
pub struct NotAnAmount(String);

impl FromStr for Amount {
    type Err = NotAnAmount;

    /// `129.90`, `129.9`, `129`, `-0.05`: digits, an optional sign, and at
    /// most two decimals.
    fn from_str(text: &str) -> Result<Self, NotAnAmount> {
        let refuse = || NotAnAmount(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (units, fraction) = match unsigned.split_once('.') {
            Some((_, "")) => return Err(refuse()),
            Some(parts) => parts,
            None => (unsigned, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if units.is_empty() || fraction.len() > 2 || !all_digits(units) || !all_digits(fraction) {
            return Err(refuse());
        }
        let units: i64 = units.parse().map_err(|_| refuse())?;
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| refuse())? * 10,
            _ => fraction.parse().map_err(|_| refuse())?,
        };
        let cents = units
            .checked_mul(100)
            .and_then(|cents| cents.checked_add(fraction))
            .ok_or_else(refuse)?;
        Ok(Self::from_cents(if negative { -cents } else { cents }))
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// From the text [`Amount`] serializes to, which is also how `BigDecimal`
/// serialized the amounts cached before this type.
impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromSql<Numeric, Pg> for Amount {
    /// Straight from `numeric`'s binary form: a digit count, the weight of
    /// the first digit (in powers of 10,000), a sign, a display scale, and
    /// the base-10,000 digits, all big-endian.
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        let field = |index: usize| -> deserialize::Result<[u8; 2]> {
            bytes
                .get(index * 2..index * 2 + 2)
                .map(|pair| [pair[0], pair[1]])
                .ok_or_else(|| "a numeric shorter than its header says".into())
        };
        let count = usize::from(u16::from_be_bytes(field(0)?));
        let weight = i64::from(i16::from_be_bytes(field(1)?));
        let negative = match u16::from_be_bytes(field(2)?) {
            POSITIVE => false,
            NEGATIVE => true,
            _ => return Err("NaN or infinity is not an amount".into()),
        };
        let mut cents: i64 = 0;
        for index in 0..count {
            let digit = i64::from(i16::from_be_bytes(field(4 + index)?));
            if !(0..BASE).contains(&digit) {
                return Err(format!("{digit} is not a numeric digit").into());
            }
            // The digit's worth in cents: 100 x 10,000^power.
            let power = weight - index as i64;
            let worth = match power {
                0.. => u32::try_from(power)
                    .ok()
                    .and_then(|power| BASE.checked_pow(power))
                    .and_then(|scale| scale.checked_mul(100))
                    .and_then(|scale| digit.checked_mul(scale)),
                -1 if digit % 100 == 0 => Some(digit / 100),
                _ if digit == 0 => Some(0),
                _ => return Err("an amount with more than two decimals".into()),
            };
            cents = worth
                .and_then(|worth| cents.checked_add(worth))
                .ok_or("an amount beyond 64 bits of cents")?;
        }
        Ok(Self::from_cents(if negative { -cents } else { cents }))
    }
}

impl ToSql<Numeric, Pg> for Amount {
    /// As `numeric`'s binary form, scale 2, trailing zero digits left out
    /// as PostgreSQL leaves them.
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let cents = self.cents.unsigned_abs();
        let (mut units, fraction) = (cents / 100, cents % 100);
        // Base-10,000 digits of the units, least significant first.
        let mut digits: Vec<i16> = Vec::with_capacity(6);
        while units > 0 {
            digits.push((units % BASE as u64) as i16);
            units /= BASE as u64;
        }
        let weight = digits.len() as i16 - 1;
        digits.reverse();
        if fraction > 0 {
            digits.push((fraction * 100) as i16);
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let sign = if self.cents < 0 { NEGATIVE } else { POSITIVE };
        let weight = if digits.is_empty() { 0 } else { weight };
        out.write_all(&(digits.len() as u16).to_be_bytes())?;
        out.write_all(&weight.to_be_bytes())?;
        out.write_all(&sign.to_be_bytes())?;
        out.write_all(&2u16.to_be_bytes())?;
        for digit in digits {
            out.write_all(&digit.to_be_bytes())?;
        }
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(cents: i64) -> String {
        Amount::from_cents(cents).to_string()
    }

    #[test]
    fn amounts_are_written_with_two_decimals() {
        assert_eq!(written(12990), "129.90");
        assert_eq!(written(5), "0.05");
        assert_eq!(written(-5), "-0.05");
        assert_eq!(written(-12345), "-123.45");
        assert_eq!(written(0), "0.00");
        assert_eq!(written(999_999_999_999), "9999999999.99");
    }

    #[test]
    fn amounts_are_read_with_at_most_two_decimals() {
        let read = |text: &str| text.parse::<Amount>().map(Amount::cents);
        assert_eq!(read("129.90"), Ok(12990));
        assert_eq!(read("129.9"), Ok(12990));
        assert_eq!(read("129"), Ok(12900));
        assert_eq!(read("-0.05"), Ok(-5));
        assert_eq!(read("+1.5"), Ok(150));
        for bad in [
            "", "-", ".5", "1.", "1.234", "1e3", "1.-5", "abc", " 1", "1,5", "--1",
        ] {
            let refused = read(bad);
            assert!(refused.is_err(), "{bad:?} was read as {refused:?}");
        }
        assert!(read("92233720368547758.08").is_err());
    }

    #[test]
    fn what_is_written_reads_back() {
        for cents in [
            0,
            1,
            10,
            99,
            100,
            12990,
            -12990,
            999_999_999_999,
            i64::MAX,
            -i64::MAX,
        ] {
            let amount = Amount::from_cents(cents);
            assert_eq!(amount.to_string().parse::<Amount>(), Ok(amount));
            let json = serde_json::to_string(&amount).unwrap();
            assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), amount);
        }
    }

    #[test]
    fn a_cached_big_decimal_reads_as_an_amount() {
        let cached = serde_json::to_string(&BigDecimal::new(12990.into(), 2)).unwrap();
        assert_eq!(
            serde_json::from_str::<Amount>(&cached).unwrap(),
            Amount::from_cents(12990)
        );
        assert_eq!(
            Amount::from_cents(-12990).to_big_decimal(),
            "-129.90".parse::<BigDecimal>().unwrap()
        );
    }
}

//! Input validation shared by the browser (checked before sending) and the server (checked
//! again, authoritatively). Each parser returns a value that is valid by construction, or the
//! field messages a person can act on.

use crate::error::{FieldError, Invalid};

/// Collects field messages; `finish` turns them into one 422.
#[derive(Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn check<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(message) => {
                self.0.push(FieldError {
                    field: field.to_owned(),
                    message,
                });
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid { fields: self.0 })
        }
    }
}

/// Trimmed text of 1..=max characters.
pub fn required(raw: &str, what: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        Err(format!("Enter {what}."))
    } else if s.chars().count() > max {
        Err(format!("Use at most {max} characters."))
    } else {
        Ok(s.to_owned())
    }
}

/// Trimmed text of at most `max` characters (may be empty).
pub fn optional(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.chars().count() > max {
        Err(format!("Use at most {max} characters."))
    } else {
        Ok(s.to_owned())
    }
}

/// A vehicle identification number: 17 characters, digits and capital letters except I, O and Q
/// (ISO 3779). Lower case is accepted and normalised.
pub fn vin(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() != 17 {
        return Err("A VIN has exactly 17 characters.".into());
    }
    if let Some(bad) = s
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() || matches!(c, 'I' | 'O' | 'Q'))
    {
        return Err(format!(
            "A VIN uses digits and letters other than I, O and Q; “{bad}” is not allowed."
        ));
    }
    Ok(s)
}

pub const MIN_YEAR: i32 = 1950;
pub const MAX_YEAR: i32 = 2100;

pub fn year(raw: &str) -> Result<i32, String> {
    match raw.trim().parse::<i32>() {
        Ok(y) if (MIN_YEAR..=MAX_YEAR).contains(&y) => Ok(y),
        _ => Err(format!("Enter a year between {MIN_YEAR} and {MAX_YEAR}.")),
    }
}

pub fn odometer(raw: &str) -> Result<i32, String> {
    match raw.trim().parse::<i32>() {
        Ok(v) if (0..=5_000_000).contains(&v) => Ok(v),
        _ => Err("Enter the odometer reading in miles (0 to 5,000,000).".into()),
    }
}

pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

pub fn priority(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    PRIORITIES
        .iter()
        .find(|p| **p == s)
        .map(|p| (*p).to_owned())
        .ok_or_else(|| "Choose low, normal, high or urgent.".into())
}

/// An optional calendar date `YYYY-MM-DD` (what `<input type="date">` sends).
pub fn date(raw: &str) -> Result<Option<(i32, u32, u32)>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let err = || "Enter a date as YYYY-MM-DD.".to_owned();
    let mut parts = s.splitn(3, '-');
    let (y, m, d) = (parts.next(), parts.next(), parts.next());
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(err());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(err());
    }
    let (y, m, d) = (
        y.parse::<i32>().map_err(|_| err())?,
        m.parse::<u32>().map_err(|_| err())?,
        d.parse::<u32>().map_err(|_| err())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err("That month does not exist.".into()),
    };
    if d == 0 || d > days || !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err("That date does not exist.".into());
    }
    Ok(Some((y, m, d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vins() {
        assert_eq!(vin(" 1fdwe3fl6hdc10101 ").unwrap(), "1FDWE3FL6HDC10101");
        assert!(vin("1FDWE3FL6HDC1010").is_err());
        assert!(vin("1FDWE3FL6HDC1010O").unwrap_err().contains("“O”"));
        assert!(vin("1FDWE3FL6HDC1010-").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(date("2024-02-29"), Ok(Some((2024, 2, 29))));
        assert_eq!(date(""), Ok(None));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-1",
            "tomorrow",
            "2024-04-31",
            "0000-01-01",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_and_numbers() {
        assert_eq!(required("  Van  ", "a name", 10), Ok("Van".into()));
        assert_eq!(required("   ", "a name", 10), Err("Enter a name.".into()));
        assert!(required("x".repeat(11).as_str(), "a name", 10).is_err());
        assert!(year("1949").is_err() && year("2024").is_ok() && year("abc").is_err());
        assert!(odometer("-1").is_err() && odometer("120000").is_ok());
        assert!(priority("high").is_ok() && priority("HIGH").is_err());
    }

    #[test]
    fn problems_collect_every_field() {
        let mut p = Problems::default();
        p.check("vin", vin("short"));
        p.check("year", year("1"));
        p.check("name", required("ok", "a name", 10));
        let Invalid { fields } = p.finish().unwrap_err();
        assert_eq!(
            fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
            ["vin", "year"]
        );
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in ".{0,40}") {
            let _ = (vin(&s), year(&s), odometer(&s), priority(&s), date(&s), required(&s, "x", 10));
        }

        #[test]
        fn valid_vins_round_trip(v in "[A-HJ-NPR-Z0-9]{17}") {
            prop_assert_eq!(vin(&v.to_lowercase()).unwrap(), v);
        }
    }
}

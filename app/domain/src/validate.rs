//! Input validation shared by the browser (checked before sending) and the server (checked
//! again, authoritatively). Each parser returns a value that is valid by construction, or the
//! field messages a person can act on.

use crate::error::{FieldError, Invalid};
use crate::fleet::{Date, Priority, Vin};

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

/// A VIN ([`Vin::parse`]).
pub fn vin(raw: &str) -> Result<Vin, String> {
    Vin::parse(raw)
}

pub use crate::fleet::{MAX_YEAR, MIN_YEAR};

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

/// A work order's priority ([`Priority::parse`]).
pub fn priority(raw: &str) -> Result<Priority, String> {
    Priority::parse(raw)
}

/// An optional date: empty is none ([`Date::parse`]).
pub fn date(raw: &str) -> Result<Option<Date>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    Date::parse(s).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vins() {
        assert_eq!(
            vin(" 1fdwe3fl6hdc10101 ").unwrap().as_str(),
            "1FDWE3FL6HDC10101"
        );
        assert!(vin("1FDWE3FL6HDC1010").is_err());
        assert!(vin("1FDWE3FL6HDC1010O").unwrap_err().contains("“O”"));
        assert!(vin("1FDWE3FL6HDC1010-").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(
            date("2024-02-29").map(|d| d.map(Date::ymd)),
            Ok(Some((2024, 2, 29)))
        );
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
            prop_assert_eq!(vin(&v.to_lowercase()).unwrap().to_string(), v);
        }
    }
}

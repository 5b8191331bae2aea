//! The fleet's values: resource states, priorities, VINs and dates, each valid by construction
//! (deserialising parses too, so no DTO holds an unparsed one).

use serde::{Deserialize, Serialize};
use std::fmt;

crate::keyed! {
    /// A vehicle's lifecycle state.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum VehicleStatus {
        Active = ("active", "Active"),
        InShop = ("in_shop", "In shop"),
        Retired = ("retired", "Retired"),
    }
}

crate::keyed! {
    /// A work order's state.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum WorkOrderStatus {
        Open = ("open", "Open"),
        InProgress = ("in_progress", "In progress"),
        OnHold = ("on_hold", "On hold"),
        Completed = ("completed", "Completed"),
        Cancelled = ("cancelled", "Cancelled"),
    }
}

impl WorkOrderStatus {
    /// Finished work orders accept no further change.
    pub const fn is_closed(self) -> bool {
        matches!(
            self,
            WorkOrderStatus::Completed | WorkOrderStatus::Cancelled
        )
    }

    /// Statuses `work_orders.update` may set; completing has a permission of its own.
    pub const fn settable(self) -> bool {
        matches!(
            self,
            WorkOrderStatus::Open
                | WorkOrderStatus::InProgress
                | WorkOrderStatus::OnHold
                | WorkOrderStatus::Cancelled
        )
    }
}

crate::keyed! {
    /// How urgent a work order is (sent and stored by its key: `low` … `urgent`).
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Priority {
        Low = ("low", "Low"),
        Normal = ("normal", "Normal"),
        High = ("high", "High"),
        Urgent = ("urgent", "Urgent"),
    }
}

impl Priority {
    /// A form's choice.
    pub fn parse(raw: &str) -> Result<Priority, String> {
        Priority::from_key(raw.trim()).ok_or_else(|| "Choose low, normal, high or urgent.".into())
    }
}

/// A vehicle identification number: 17 characters, digits and capital letters except I, O and Q
/// (ISO 3779). Lower case is accepted and normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Vin(String);

impl Vin {
    pub fn parse(raw: &str) -> Result<Vin, String> {
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
        Ok(Vin(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Vin {
    type Error = String;

    fn try_from(raw: String) -> Result<Vin, String> {
        Vin::parse(&raw)
    }
}

impl From<Vin> for String {
    fn from(v: Vin) -> String {
        v.0
    }
}

impl fmt::Display for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The years a vehicle or a date may have.
pub const MIN_YEAR: i32 = 1950;
pub const MAX_YEAR: i32 = 2100;

/// A calendar date, `YYYY-MM-DD` (what `<input type="date">` sends), that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    pub fn parse(raw: &str) -> Result<Date, String> {
        let s = raw.trim();
        let err = || "Enter a date as YYYY-MM-DD.".to_owned();
        let mut parts = s.splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
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
        Date::from_ymd(y, m, d)
    }

    /// The date, if it exists (and its year is one the product deals in).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, String> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err("That month does not exist.".into()),
        };
        if day == 0 || day > days || !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err("That date does not exist.".into());
        }
        Ok(Date { year, month, day })
    }

    pub const fn ymd(self) -> (i32, u32, u32) {
        (self.year, self.month, self.day)
    }
}

impl TryFrom<String> for Date {
    type Error = String;

    fn try_from(raw: String) -> Result<Date, String> {
        Date::parse(&raw)
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_once_and_deserialise_only_through_their_parser() {
        let vin: Vin = serde_json::from_str("\"1ftfw1e50nfa00001\"").unwrap();
        assert_eq!(vin.as_str(), "1FTFW1E50NFA00001");
        assert!(serde_json::from_str::<Vin>("\"SHORT\"").is_err());
        let date: Date = serde_json::from_str("\"2024-02-29\"").unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), "\"2024-02-29\"");
        assert!(serde_json::from_str::<Date>("\"2023-02-29\"").is_err());
        assert_eq!(
            serde_json::to_string(&Priority::Urgent).unwrap(),
            "\"urgent\""
        );
        assert!(serde_json::from_str::<Priority>("\"whenever\"").is_err());
    }
}

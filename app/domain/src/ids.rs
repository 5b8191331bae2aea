//! Typed ids of the fleet's resources: a vehicle's id cannot be passed where a work order's is
//! expected. On the wire and in the database they are the plain number (`serde(transparent)`).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$name> for i32 {
            fn from(id: $name) -> i32 {
                id.0
            }
        }
    };
}

id!(
    /// A vehicle's id.
    VehicleId
);
id!(
    /// A work order's id.
    WorkOrderId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&VehicleId(12)).unwrap(), "12");
        assert_eq!(
            serde_json::from_str::<WorkOrderId>("7").unwrap(),
            WorkOrderId(7)
        );
        assert_eq!(VehicleId(3).to_string(), "3");
    }
}

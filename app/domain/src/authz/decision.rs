//! The outcome of a check, and a denial that explains itself the same way in the UI (tooltip,
//! accessible description) and in the server's 403 body.

use super::Permission;
use super::tree::TeamRef;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Allow,
    Deny(Denial),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    pub fn denial(&self) -> Option<&Denial> {
        match self {
            Decision::Allow => None,
            Decision::Deny(d) => Some(d),
        }
    }
}

/// What is missing, where, and which teams would grant it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    pub permission: Permission,
    pub scope: TeamRef,
    /// Teams on the way up from the scope whose grant includes the permission: membership in any
    /// of them would give it.
    pub granted_by: Vec<TeamRef>,
}

impl Denial {
    /// One sentence for people: label and key, scope, and the way to get it.
    pub fn describe(&self) -> String {
        format!(
            "You need “{}” ({}) on {}. {}",
            self.permission.label(),
            self.permission.key(),
            self.scope.name,
            self.who_grants()
        )
    }

    /// The way to get it: the teams whose members hold it there, or that nobody does yet.
    pub fn who_grants(&self) -> String {
        if self.granted_by.is_empty() {
            "No team grants it there yet; someone with permissions.grant can add it.".to_owned()
        } else {
            let names: Vec<_> = self.granted_by.iter().map(|t| t.name.as_str()).collect();
            format!("Granted to members of: {}.", names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_names_key_scope_and_granting_teams() {
        let d = Denial {
            permission: Permission::WorkOrdersComplete,
            scope: TeamRef {
                id: 3,
                name: "Boston Depot".into(),
            },
            granted_by: vec![TeamRef {
                id: 2,
                name: "Northeast Region".into(),
            }],
        };
        assert_eq!(
            d.describe(),
            "You need “Complete work orders” (work_orders.complete) on Boston Depot. \
             Granted to members of: Northeast Region."
        );
        let none = Denial {
            granted_by: vec![],
            ..d
        };
        assert!(
            none.describe()
                .ends_with("someone with permissions.grant can add it.")
        );
    }
}

//! Domain types and the data transfer objects shared by the server and the frontend.
//! Parsing constructors make invalid values unrepresentable past the boundary.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's single role. It decides impersonation eligibility and the default permission template
/// of new teams; it is never consulted for a fleet action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Support,
    FleetManager,
    Technician,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Support,
        Role::FleetManager,
        Role::Technician,
    ];

    /// The value stored in the `users.role` column.
    pub const fn key(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::FleetManager => "fleet_manager",
            Role::Technician => "technician",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    pub const fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Support => "Support",
            Role::FleetManager => "Fleet Manager",
            Role::Technician => "Technician",
        }
    }

    /// Operator roles belong to the vendor's organisation only.
    pub const fn is_operator(self) -> bool {
        matches!(self, Role::Admin | Role::Support)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The kind of an organisation: the one vendor (operator) or a customer tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrgKind {
    Operator,
    Customer,
}

impl OrgKind {
    pub const fn key(self) -> &'static str {
        match self {
            OrgKind::Operator => "operator",
            OrgKind::Customer => "customer",
        }
    }

    pub fn from_key(key: &str) -> Option<OrgKind> {
        [OrgKind::Operator, OrgKind::Customer]
            .into_iter()
            .find(|k| k.key() == key)
    }
}

/// An e-mail address, trimmed and lower-cased, so that lookups and the unique index are
/// case-insensitive on every database.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an e-mail address.")]
    Empty,
    #[error("An e-mail address has at most 254 characters.")]
    TooLong,
    #[error("Enter an e-mail address like name@example.com.")]
    Malformed,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::Malformed)?;
        let well_formed = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(EmailError::Malformed);
        }
        Ok(Email(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who is signed in, as the header shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i32,
    pub full_name: String,
    pub email: String,
    pub role: Role,
    pub organisation: String,
    /// Operator staff see the Admin area.
    pub operator: bool,
    /// May open the audit log (their organisation's, or all for operator staff).
    pub audit: bool,
    /// Set while an operator views the app as this user.
    pub impersonation: Option<ImpersonationInfo>,
}

/// A vehicle's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VehicleStatus {
    Active,
    InShop,
    Retired,
}

impl VehicleStatus {
    pub const fn key(self) -> &'static str {
        match self {
            VehicleStatus::Active => "active",
            VehicleStatus::InShop => "in_shop",
            VehicleStatus::Retired => "retired",
        }
    }

    pub fn from_key(key: &str) -> Option<VehicleStatus> {
        [
            VehicleStatus::Active,
            VehicleStatus::InShop,
            VehicleStatus::Retired,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }

    pub const fn label(self) -> &'static str {
        match self {
            VehicleStatus::Active => "Active",
            VehicleStatus::InShop => "In shop",
            VehicleStatus::Retired => "Retired",
        }
    }
}

/// One row of the Vehicles list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleRow {
    pub id: i32,
    pub name: String,
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub plate: String,
    pub status: VehicleStatus,
    pub team: String,
}

#[cfg(test)]
mod tests {

    #[test]
    fn cursors_round_trip_and_broken_ones_are_refused() {
        for c in [
            Cursor {
                id: 12,
                key: Some("Van B-104".into()),
            },
            Cursor {
                id: 7,
                key: Some("a:b".into()),
            },
            Cursor {
                id: 3,
                key: Some(String::new()),
            },
            Cursor { id: 9, key: None },
        ] {
            assert_eq!(Cursor::parse(&c.encode()), Ok(c));
        }
        for bad in ["", "x", "0", "-4:a", ":a", "99999999999:a"] {
            assert_eq!(Cursor::parse(bad), Err(Cursor::BROKEN.to_owned()), "{bad}");
        }
    }
    use super::*;

    #[test]
    fn email_is_normalised() {
        let e = Email::parse("  Maria@ACME.test ").unwrap();
        assert_eq!(e.as_str(), "maria@acme.test");
    }

    #[test]
    fn bad_emails_are_refused_with_a_reason() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        for bad in [
            "maria",
            "maria@",
            "@acme.test",
            "a@b@c.test",
            "a b@c.test",
            "a@test",
            "a@.test",
            "a@test.",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        let long = format!("{}@acme.test", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn role_and_status_keys_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_key(r.key()), Some(r));
        }
        assert_eq!(Role::from_key("superuser"), None);
        assert!(Role::Admin.is_operator() && Role::Support.is_operator());
        assert!(!Role::FleetManager.is_operator() && !Role::Technician.is_operator());
        for s in [
            VehicleStatus::Active,
            VehicleStatus::InShop,
            VehicleStatus::Retired,
        ] {
            assert_eq!(VehicleStatus::from_key(s.key()), Some(s));
        }
        assert_eq!(OrgKind::from_key("operator"), Some(OrgKind::Operator));
    }
}

/// Decisions for the actions a page offers on one resource, computed by the server from the
/// effective user's permissions; the UI renders every control from these, never from its own
/// rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions(pub Vec<(crate::authz::Permission, crate::authz::Decision)>);

impl Actions {
    /// The decision for `p`; an action the server did not decide is not offered as allowed.
    pub fn get(&self, p: crate::authz::Permission) -> Option<&crate::authz::Decision> {
        self.0.iter().find(|(q, _)| *q == p).map(|(_, d)| d)
    }
}

/// A work order's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkOrderStatus {
    Open,
    InProgress,
    OnHold,
    Completed,
    Cancelled,
}

impl WorkOrderStatus {
    pub const ALL: [WorkOrderStatus; 5] = [
        WorkOrderStatus::Open,
        WorkOrderStatus::InProgress,
        WorkOrderStatus::OnHold,
        WorkOrderStatus::Completed,
        WorkOrderStatus::Cancelled,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            WorkOrderStatus::Open => "open",
            WorkOrderStatus::InProgress => "in_progress",
            WorkOrderStatus::OnHold => "on_hold",
            WorkOrderStatus::Completed => "completed",
            WorkOrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_key(key: &str) -> Option<WorkOrderStatus> {
        WorkOrderStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub const fn label(self) -> &'static str {
        match self {
            WorkOrderStatus::Open => "Open",
            WorkOrderStatus::InProgress => "In progress",
            WorkOrderStatus::OnHold => "On hold",
            WorkOrderStatus::Completed => "Completed",
            WorkOrderStatus::Cancelled => "Cancelled",
        }
    }

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

/// One row of the Work orders list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderRow {
    pub id: i32,
    pub title: String,
    pub vehicle: String,
    pub team: String,
    pub status: WorkOrderStatus,
    pub priority: String,
    pub assignee: Option<String>,
    pub due_on: Option<String>,
}

/// The Work orders page: the rows, and the choices of its filters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderList {
    pub rows: Vec<WorkOrderRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// Teams the caller may view work orders of.
    pub teams: Vec<crate::authz::TeamRef>,
    /// The people of the teams filtered on, for the assignee filter…
    pub assignees: Vec<UserRef>,
    /// …unless they are too many for a list: then choose a team first.
    pub assignees_too_many: bool,
}

/// A person, as a list or a form shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: i32,
    pub name: String,
}

#[cfg(feature = "ssr")]
impl From<crate::entity::user::Model> for UserRef {
    fn from(u: crate::entity::user::Model) -> Self {
        UserRef {
            id: u.id,
            name: u.full_name,
        }
    }
}

/// The work order page: the data and the decisions for its actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderDetail {
    pub id: i32,
    pub title: String,
    pub description: String,
    pub vehicle: String,
    pub vehicle_id: i32,
    pub team: crate::authz::TeamRef,
    pub status: WorkOrderStatus,
    pub priority: String,
    pub assignee: Option<UserRef>,
    pub due_on: Option<String>,
    /// Optimistic concurrency: every change names the version it was made against.
    pub version: i32,
    pub actions: Actions,
    /// People the work order can be assigned to (members of teams at or above its team).
    pub assignable: Vec<UserRef>,
}

/// The vehicle page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleDetail {
    pub vehicle: VehicleRow,
    pub team_id: i32,
    pub odometer: i32,
    pub version: i32,
    pub work_orders: Vec<WorkOrderRow>,
    pub inspections: Vec<InspectionRow>,
    /// Edit, retire, create a work order, submit an inspection.
    pub actions: Actions,
}

/// Rows on one page of a list.
pub const PAGE_SIZE: u64 = 50;

/// Where the next page of a list starts: the sort key and id of the last row shown (keyset
/// pagination: the next page is one index range scan, however deep, and rows added meanwhile
/// never shift a page). It travels in the page's URL as `after=<id>:<key>`, or `<id>` when the
/// key is absent (a work order without a due date sorts last).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub id: i32,
    pub key: Option<String>,
}

impl Cursor {
    pub const BROKEN: &'static str =
        "This page link is not valid (any more); start again from the first page.";

    pub fn parse(raw: &str) -> Result<Cursor, String> {
        let (id, key) = match raw.split_once(':') {
            Some((id, key)) => (id, Some(key.to_owned())),
            None => (raw, None),
        };
        match id.parse::<i32>() {
            Ok(id) if id > 0 => Ok(Cursor { id, key }),
            _ => Err(Cursor::BROKEN.to_owned()),
        }
    }

    pub fn encode(&self) -> String {
        match &self.key {
            Some(key) => format!("{}:{key}", self.id),
            None => self.id.to_string(),
        }
    }
}

/// The Vehicles page: the rows, and where the caller may add a vehicle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleList {
    pub rows: Vec<VehicleRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// Teams where the caller holds `vehicles.create`.
    pub create_teams: Vec<crate::authz::TeamRef>,
    /// Why "Add vehicle" is off when `create_teams` is empty.
    pub create: crate::authz::Decision,
}

/// The validated fields of the vehicle form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VehicleFields {
    pub name: String,
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub plate: String,
    pub odometer: i32,
}

/// One submitted inspection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRow {
    pub id: i32,
    pub submitted_at: String,
    pub inspector: Option<String>,
    pub passed: bool,
    pub items: Vec<ChecklistItem>,
}

/// One line of the inspection checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub item: String,
    pub ok: bool,
    pub note: String,
}

/// The checklist every inspection covers.
pub const CHECKLIST: [&str; 6] = ["Brakes", "Tyres", "Lights", "Fluids", "Wipers", "Horn"];

/// The dashboard's counts, over the teams the caller may view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub vehicles_by_status: Vec<(VehicleStatus, u64)>,
    pub open_work_orders: u64,
    pub overdue_work_orders: u64,
    pub work_orders_by_status: Vec<(WorkOrderStatus, u64)>,
}

/// "My access": per team, each permission held and the teams it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccess {
    pub memberships: Vec<crate::authz::TeamRef>,
    pub teams: Vec<TeamAccess>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamAccess {
    pub team: crate::authz::TeamRef,
    pub depth: usize,
    pub permissions: Vec<(crate::authz::Permission, Vec<crate::authz::TeamRef>)>,
}

/// The permission matrix: teams × permissions, with what the viewer may change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    pub permissions: Vec<crate::authz::Permission>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub team: crate::authz::TeamRef,
    pub depth: usize,
    pub cells: Vec<MatrixCell>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixCell {
    pub permission: crate::authz::Permission,
    pub granted: bool,
    /// Why the viewer may not toggle this cell, if they may not.
    pub locked: Option<crate::authz::GrantRefusal>,
}

/// A team's page: its members and whether the viewer may change them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembers {
    pub team: crate::authz::TeamRef,
    pub parent: Option<crate::authz::TeamRef>,
    pub members: Vec<Member>,
    /// People of the organisation who are not members yet (only when the viewer may add).
    pub candidates: Vec<UserRef>,
    /// `members.manage` on this team (removing members).
    pub manage: crate::authz::Decision,
    /// Why the viewer may not add members here, if they may not: `members.manage`, or a
    /// permission the team grants that the viewer does not hold there (no escalation).
    pub add_locked: Option<crate::authz::GrantRefusal>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// The impersonation banner's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpersonationInfo {
    pub actor: String,
    pub mode: crate::impersonation::Mode,
    pub reason: String,
    pub ticket: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One user row of the admin console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organisation: String,
    pub organisation_id: i32,
    pub active: bool,
    pub consent: Option<crate::impersonation::Consent>,
    /// Why **View as** is disabled for this row, if it is.
    pub view_as: Result<(), crate::impersonation::Refusal>,
}

/// One organisation in the admin console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: i32,
    pub name: String,
    pub kind: OrgKind,
    pub consent: crate::impersonation::Consent,
    pub users: u64,
}

/// One audit event, with names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i32,
    pub at: String,
    pub organisation: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub impersonation_id: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub outcome: String,
    /// Free-text detail of rows written before structured fields.
    pub detail: Option<String>,
    /// The event's structured details, each shown on its own.
    pub fields: Vec<AuditFieldView>,
}

impl AuditRow {
    /// The value of the field with stable key `key` (`reason`, `ticket`, `mode`, …).
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }
}

/// One structured detail of an audit event: its stable key, label and value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFieldView {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// The audit page: events, and (for operator staff) whether the whole chain verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditRow>,
    pub scope: String,
    pub chain: Option<ChainStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    pub rows: u64,
    /// The first row whose hash does not match, if any.
    pub first_broken: Option<i32>,
}

/// The organisation settings page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettingsView {
    pub name: String,
    pub consent: crate::impersonation::Consent,
    pub change: crate::authz::Decision,
}

//! The data transfer objects of the pages: what a server function returns and its page renders.
//! They carry domain values (`domain::fleet`, `domain::people`) already parsed, and the
//! server's decisions for the controls they show (`Actions`), never rules of their own.

use domain::fleet::{Date, Priority, VehicleStatus, Vin, WorkOrderStatus};
use domain::ids::{VehicleId, WorkOrderId};
use domain::people::{OrgKind, Role};
use serde::{Deserialize, Serialize};

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
    /// May see someone on the People page (holds `teams.view` somewhere).
    pub people: bool,
    /// May ask the troubleshooter about others (operator staff with `access.troubleshoot`, or
    /// a customer holding `teams.view` somewhere).
    pub troubleshoot: bool,
}

/// One row of the Vehicles list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleRow {
    pub id: VehicleId,
    pub name: String,
    pub vin: Vin,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub plate: String,
    pub status: VehicleStatus,
    pub team: String,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

/// Decisions for the actions a page offers on one resource, computed by the server from the
/// effective user's permissions; the UI renders every control from these, never from its own
/// rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions(pub Vec<(domain::authz::Permission, domain::authz::Decision)>);

impl Actions {
    /// The decision for `p`; an action the server did not decide is not offered as allowed.
    pub fn get(&self, p: domain::authz::Permission) -> Option<&domain::authz::Decision> {
        self.0.iter().find(|(q, _)| *q == p).map(|(_, d)| d)
    }
}

/// One row of the Work orders list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderRow {
    pub id: WorkOrderId,
    pub title: String,
    pub vehicle: String,
    pub team: String,
    pub status: WorkOrderStatus,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub due_on: Option<Date>,
}

/// The Work orders page: the rows, and the choices of its filters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderList {
    pub rows: Vec<WorkOrderRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// Teams the caller may view work orders of.
    pub teams: Vec<domain::authz::TeamRef>,
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
impl From<backend::entity::user::Model> for UserRef {
    fn from(u: backend::entity::user::Model) -> Self {
        UserRef {
            id: u.id,
            name: u.full_name,
        }
    }
}

/// The work order page: the data and the decisions for its actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderDetail {
    pub id: WorkOrderId,
    pub title: String,
    pub description: String,
    pub vehicle: String,
    pub vehicle_id: VehicleId,
    pub team: domain::authz::TeamRef,
    pub status: WorkOrderStatus,
    pub priority: Priority,
    pub assignee: Option<UserRef>,
    pub due_on: Option<Date>,
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
    pub create_teams: Vec<domain::authz::TeamRef>,
    /// Why "Add vehicle" is off when `create_teams` is empty.
    pub create: domain::authz::Decision,
}

/// The validated fields of the vehicle form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VehicleFields {
    pub name: String,
    pub vin: Vin,
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
    pub memberships: Vec<domain::authz::TeamRef>,
    pub teams: Vec<TeamAccess>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamAccess {
    pub team: domain::authz::TeamRef,
    pub depth: usize,
    pub permissions: Vec<(domain::authz::Permission, Vec<domain::authz::TeamRef>)>,
}

/// The permission matrix: teams × permissions, with what the viewer may change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    pub permissions: Vec<domain::authz::Permission>,
    pub rows: Vec<MatrixRow>,
    /// The teams a new sub-team may be created under (`teams.manage` there).
    pub new_team_parents: Vec<domain::authz::TeamRef>,
    /// Why **New team** is greyed out, when there is no such team.
    pub new_team_locked: Option<domain::authz::Denial>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub team: domain::authz::TeamRef,
    pub depth: usize,
    pub cells: Vec<MatrixCell>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixCell {
    pub permission: domain::authz::Permission,
    pub granted: bool,
    /// Why the viewer may not toggle this cell, if they may not.
    pub locked: Option<domain::authz::GrantRefusal>,
}

/// A team's page: its members and whether the viewer may change them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembers {
    pub team: domain::authz::TeamRef,
    pub parent: Option<domain::authz::TeamRef>,
    pub members: Vec<Member>,
    /// People of the organisation who are not members yet (only when the viewer may add).
    pub candidates: Vec<UserRef>,
    /// `members.manage` on this team (removing members).
    pub manage: domain::authz::Decision,
    /// Why the viewer may not add members here, if they may not: `members.manage`, or a
    /// permission the team grants that the viewer does not hold there (no escalation).
    pub add_locked: Option<domain::authz::GrantRefusal>,
    /// Why the viewer may not invite people into this team, if they may not.
    pub invite_locked: Option<domain::authz::GrantRefusal>,
    /// Invitations into this team not yet accepted (expired ones included: they can be resent).
    pub invitations: Vec<PendingInvitation>,
    /// Why the viewer may not rename or delete this team (`teams.manage` on its parent).
    pub manage_locked: Option<domain::authz::GrantRefusal>,
    /// Where the viewer may move this team (empty when nowhere).
    pub move_targets: Vec<domain::authz::TeamRef>,
}

/// An invitation waiting for its person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInvitation {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub expires: String,
    pub expired: bool,
}

/// What an invitation link shows before it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub team: String,
}

/// One person on the People page, with what the viewer may do to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub teams: Vec<domain::authz::TeamRef>,
    pub active: bool,
    /// `YYYY-MM-DD HH:MM` UTC, when they ever signed in.
    pub last_sign_in: Option<String>,
    /// Deactivating or reactivating (`users.deactivate` on every team of theirs).
    pub deactivate: Result<(), domain::authz::PersonRefusal>,
    /// Changing their role (`members.manage` on every team of theirs).
    pub change_role: Result<(), domain::authz::PersonRefusal>,
}

/// A page of the People list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub rows: Vec<PersonRow>,
    pub next: Option<String>,
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
    pub mode: domain::impersonation::Mode,
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
    pub consent: Option<domain::impersonation::Consent>,
    /// Until when a live support access grant lets support view as them, if one does.
    pub granted_until: Option<String>,
    /// Why **View as** is disabled for this row, if it is.
    pub view_as: Result<(), domain::impersonation::Refusal>,
}

/// One organisation in the admin console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: i32,
    pub name: String,
    pub kind: OrgKind,
    pub consent: domain::impersonation::Consent,
    pub users: u64,
    pub suspended: bool,
}

/// The organisations page: every organisation, and whether the viewer may manage them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgList {
    pub rows: Vec<OrgRow>,
    /// Why creating, suspending and reactivating are greyed out (`orgs.manage`), if they are.
    pub manage_locked: Option<String>,
}

/// A new customer organisation, and where its manager's invitation went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgCreated {
    pub id: i32,
    pub invited: String,
}

/// A page of the admin console's user list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserPage {
    pub rows: Vec<AdminUserRow>,
    pub next: Option<String>,
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
    /// The `before` of the next (older) page, if there is one.
    pub older: Option<i32>,
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
    pub consent: domain::impersonation::Consent,
    pub change: domain::authz::Decision,
}

/// A live support access grant, as its person and their organisation's managers see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    pub id: i32,
    /// Whom it lets support view as.
    pub person: String,
    pub mode: domain::impersonation::Mode,
    pub until: String,
    pub ticket: Option<String>,
    pub note: Option<String>,
    /// Why **Revoke** is disabled for the viewer, if it is.
    pub revoke: Result<(), String>,
}

/// An impersonation of someone, as they are told of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewingRow {
    pub id: String,
    pub actor: String,
    pub mode: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub started: String,
    /// `None` while it lasts.
    pub ended: Option<String>,
    /// How long it lasted, in minutes (so far, while it lasts).
    pub minutes: i64,
}

/// `/account`'s support access section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportAccessView {
    pub organisation: String,
    pub consent: domain::impersonation::Consent,
    /// The modes a new grant may give (empty: grants cannot be opened, `grant_locked` says why).
    pub modes: Vec<domain::impersonation::Mode>,
    pub grant_locked: Option<String>,
    /// Live grants: the viewer's own, or, for `org.settings` holders, everyone's.
    pub grants: Vec<GrantRow>,
    /// Every impersonation of the viewer, newest first.
    pub viewings: Vec<ViewingRow>,
}

/// A person or a team on the protection list of `/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectableRow {
    pub id: i32,
    pub name: String,
    /// For a person: their e-mail; for a team: its depth in the tree.
    pub detail: String,
    pub protected: bool,
}

/// `/settings`' protection list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectionView {
    pub people: Vec<ProtectableRow>,
    pub teams: Vec<ProtectableRow>,
}

/// Operator staff's request for support access to a person, and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: i32,
    pub person: String,
    pub organisation: String,
    pub asked_by: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub mode: domain::impersonation::Mode,
    pub asked: String,
    /// `None` while unanswered; `Some(true)` approved, `Some(false)` declined.
    pub approved: Option<bool>,
    /// Who answered, and why (a decline says why).
    pub answer: Option<String>,
    /// Why **Approve** / **Decline** are disabled for the viewer, if they are.
    pub answerable: Result<(), String>,
}

/// An organisation's webhook and how its deliveries go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    /// `None`: no webhook.
    pub url: Option<String>,
    /// The operator's: every organisation's events.
    pub all_organisations: bool,
    /// Events not delivered yet.
    pub pending: u64,
    /// The last event delivered.
    pub delivered_up_to: i32,
    pub last_delivered: Option<String>,
    /// Failing deliveries: how many attempts, the last error and the next try.
    pub failing: Option<String>,
}

/// A person a troubleshooter answer is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub id: i32,
    pub name: String,
    pub email: String,
}

/// One fix of a denial, as the troubleshooter shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixView {
    pub change: domain::authz::Change,
    /// `join` or `grant`, as `ApplyFix` takes it.
    pub kind: String,
    pub team: domain::authz::TeamRef,
    /// The change in words ("Grant work_orders.complete to Boston Depot").
    pub title: String,
    /// Its blast radius in words, one line per person who gains something.
    pub radius: Vec<String>,
    /// The customer users who may apply it (the no-escalation rule), by name.
    pub appliers: Vec<String>,
    /// Whether the caller may apply it (never operator staff).
    pub can_apply: bool,
}

/// Someone who holds the permission, and through which teams.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderView {
    pub name: String,
    pub email: String,
    pub through: Vec<domain::authz::TeamRef>,
}

/// A vehicle or a work order a troubleshooter question is about: its owning team is the scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutView {
    /// The query parameter that names it: `vehicle` or `work_order`.
    pub param: String,
    pub id: i32,
    /// In words: `vehicle “Truck 7”`, `work order #12 “Replace brakes”`.
    pub label: String,
}

/// The troubleshooter's answer to "why can(not) this user do this here?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TroubleshootAnswer {
    pub subject: PersonName,
    /// The vehicle or work order asked about, when the question named one.
    pub about: Option<AboutView>,
    pub explanation: domain::authz::Explanation,
    pub fixes: Vec<FixView>,
    pub who_can: Vec<HolderView>,
    /// The shareable link to this very answer.
    pub link: String,
}

/// Everything one user may do, per team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatCanAnswer {
    pub subject: PersonName,
    pub teams: Vec<domain::authz::TeamAccess>,
}

/// One permission one user holds on a team and the other lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DifferenceView {
    pub team: domain::authz::TeamRef,
    pub permission: domain::authz::Permission,
    pub holder: String,
    pub lacker: String,
    pub holder_through: Vec<domain::authz::TeamRef>,
    pub lacker_member_of: Vec<domain::authz::TeamRef>,
    /// How many teams the difference holds on.
    pub teams: usize,
    pub fixes: Vec<FixView>,
}

/// Two users compared, on one team or everywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareAnswer {
    pub a: PersonName,
    pub b: PersonName,
    pub scope: Option<domain::authz::TeamRef>,
    /// The vehicle or work order compared on, when the question named one.
    pub about: Option<AboutView>,
    pub differences: Vec<DifferenceView>,
}

//! Authorisation through the real HTTP API, on SQLite and PostgreSQL: deny by default, the
//! authorisation matrix (every server function × every demo principal), and the fleet flows.

use crate::support::{
    Backend, Call, ServerFunction, Session, TestApp, every_event, every_work_order,
};
use app::api::account::ChangePassword;
use app::api::admin::{AdminOrgs, AdminUsers};
use app::api::auth::{CurrentUser, Logout};
use app::api::dashboard::GetDashboard;
use app::api::impersonation::{ExitImpersonation, StartImpersonation};
use app::api::inspections::SubmitInspection;
use app::api::invitations::{
    AcceptInvitation, InviteMember, OpenInvitation, ResendInvitation, RevokeInvitation,
};
use app::api::org::{OrgSettings, SetConsent};
use app::api::organisations::{CreateOrganisation, ReactivateOrganisation, SuspendOrganisation};
use app::api::password_reset::{CheckResetLink, RequestPasswordReset, ResetPassword};
use app::api::people::{ChangeRole, DeactivateUser, ListPeople, ReactivateUser};
use app::api::support_access::{
    AnswerSupportRequest, DismissNotice, GetProtections, GetSupportAccess, GrantSupportAccess,
    RequestSupportAccess, RevokeSupportGrant, SetProtection, SupportNotices, SupportRequests,
};
use app::api::team_tree::{CreateTeam, DeleteTeam, MoveTeam, RenameTeam};
use app::api::teams::{
    AddMember, GetMyAccess, GrantPermission, PermissionMatrix, RemoveMember, RevokePermission,
    TeamMembers,
};
use app::api::troubleshoot::{ApplyFix, Compare, Troubleshoot, WhatCan};
use app::api::vehicles::{CreateVehicle, EditVehicle, GetVehicle, ListVehicles, RetireVehicle};
use app::api::webhooks::{GetWebhook, SetWebhook, TestWebhook};
use app::api::work_orders::{
    AssignWorkOrder, CompleteWorkOrder, CreateWorkOrder, GetWorkOrder, ListWorkOrders,
    SetWorkOrderStatus,
};
use app::error::AppError;
use app::model::{CHECKLIST, ChecklistItem, WorkOrderDetail};
use backend::entity::{audit_event, invitation, organisation, password_reset, user, work_order};
use domain::authz::Permission;
use domain::fleet::WorkOrderStatus;
use domain::ids::{VehicleId, WorkOrderId};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

on_both_databases!(
    authorization_matrix,
    dan_completes_in_denver_and_a_stale_version_conflicts,
    the_second_of_two_updates_to_one_version_conflicts,
    tina_is_refused_with_the_explanation_and_the_denial_is_audited,
    a_grant_takes_effect_at_once,
    a_grant_cannot_escalate,
    a_revocation_takes_effect_at_once,
    invalid_input_writes_nothing,
    membership_changes_take_effect_at_once,
    someone_of_another_organisation_cannot_be_added,
    work_orders_filter_by_status_team_and_assignee,
    a_bad_vehicle_has_every_problem_named_and_writes_nothing,
    vehicles_are_added_edited_and_retired_with_validation,
    a_failed_inspection_opens_a_work_order_in_one_transaction,
    a_failed_inspection_item_needs_a_note,
);

/// Deny by default: every registered server function has a declared policy, and every policy
/// names a registered server function.
#[test]
fn every_server_function_declares_a_policy() {
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(registered.len() >= 10, "{registered:?}");
    for path in &registered {
        assert!(
            app::api::door::lookup(path).is_some(),
            "{path} has no declared policy"
        );
    }
    for policy in app::api::door::POLICIES {
        assert!(
            registered.iter().any(|r| r == policy.path),
            "{} is not a server function",
            policy.path
        );
    }
}

/// The columns of the matrix.
const PRINCIPALS: [&str; 8] = [
    "admin@fleetgate.test",
    "support@fleetgate.test",
    "maria@acme.test",
    "tina@acme.test",
    "dan@acme.test",
    "olga@acme.test",
    "gary@globex.test",
    "(no session)",
];

/// The version the matrix's writes are sent against: stale, so "allowed" shows as 409 and
/// nothing changes.
const STALE: i32 = 999;

/// The demo rows the matrix's calls name.
struct Demo {
    acme: i32,
    northeast: i32,
    boston: i32,
    denver: i32,
    boston_order: WorkOrderId,
    denver_order: WorkOrderId,
    b101: VehicleId,
    tina: i32,
    dan: i32,
    olga: i32,
    /// An invitation into Boston Depot, revoked (made for the matrix).
    revoked_invitation: i32,
    /// A support access grant Tina opened for herself, revoked (made for the matrix).
    revoked_grant: i32,
    /// A request for support access to Tina, declined already (made for the matrix).
    answered_request: i32,
}

/// A link token no mail ever carried.
const BOGUS: &str = "bogus-token-no-mail-ever-carried";

/// A row of the matrix: a call, and the status each principal gets.
fn row<F: ServerFunction>(input: F, statuses: [u16; 8]) -> (Call, [u16; 8]) {
    (Call::of(&input), statuses)
}

/// Every server function × every principal → the status the demo grants imply, in the order
/// they are sent. Grants and revocations are chosen to be no-ops; 404 is another
/// organisation's resource.
#[rustfmt::skip]
fn matrix(d: &Demo) -> Vec<(Call, [u16; 8])> {
    let grant = |team, permission: &str| GrantPermission { team, permission: permission.into() };
    let revoke = |team, permission: &str| RevokePermission { team, permission: permission.into() };
    let set_status = |id, status: &str| SetWorkOrderStatus { id, status: status.into(), version: STALE };
    let complete = |id| CompleteWorkOrder { id, version: STALE };
    let unassign = |id| AssignWorkOrder { id, assignee: None, version: STALE };
    // B-101's own VIN: an allowed create fails as a duplicate (422).
    let vin = "1FDWE3FL6HDC10101";
    let new_vehicle = CreateVehicle {
        team: d.boston, name: "Matrix van".into(), vin: vin.into(), make: "Ford".into(),
        model: "Transit".into(), year: "2022".into(), plate: "MA 1".into(), odometer: "10".into(),
    };
    let edit_b101 = EditVehicle {
        id: d.b101, version: STALE, name: "Matrix van".into(), vin: vin.into(), make: "Ford".into(),
        model: "Transit".into(), year: "2022".into(), plate: "MA 1".into(), odometer: "10".into(),
    };
    let new_order = CreateWorkOrder {
        vehicle: d.b101, title: "Matrix".into(), description: String::new(),
        priority: "low".into(), due_on: String::new(),
    };
    let every_user = AdminUsers { q: None, organisation: None, role: None, active: None, after: None };
    let view_tina = StartImpersonation {
        user: d.tina, reason: "Matrix: checking who may start".into(), ticket: String::new(),
        mode: "view".into(), minutes: "5".into(),
    };
    // A wrong current password: 422 for everyone signed in (the guard let them through).
    let wrong_password = ChangePassword {
        current: "wrong".into(), new: "long-enough-passphrase".into(),
        repeat: "long-enough-passphrase".into(),
    };
    let all_well = CHECKLIST.iter()
        .map(|i| ChecklistItem { item: (*i).into(), ok: true, note: String::new() })
        .collect();
    let inspect_b101 = SubmitInspection { vehicle: d.b101, items: all_well, open_work_order: false };
    // Acme's own name: an allowed create fails as a duplicate (422).
    let duplicate_org = CreateOrganisation {
        name: "Acme Logistics".into(), manager_name: "Matrix Manager".into(),
        manager_email: "matrix-manager@new.test".into(),
    };
    // Tina's address: an allowed invitation fails as taken (422).
    let invite_tina = InviteMember {
        team: d.boston, name: "Tina Again".into(), email: "tina@acme.test".into(),
        role: "technician".into(),
    };
    let accept_bogus = AcceptInvitation {
        token: BOGUS.into(), password: "long-enough-passphrase".into(),
        confirm: "long-enough-passphrase".into(),
    };
    let reset_bogus = ResetPassword {
        token: BOGUS.into(), password: "long-enough-passphrase".into(),
        confirm: "long-enough-passphrase".into(),
    };
    let forgot_nobody = RequestPasswordReset { email: "nobody@nowhere.test".into() };
    let every_person = ListPeople { q: None, after: None };
    let new_team = CreateTeam { parent: d.boston, name: "Matrix bay".into() };
    let rename_boston = RenameTeam { team: d.boston, name: "Boston Depot".into() };
    let same_role = ChangeRole { user: d.tina, role: "technician".into() };
    // A read-only hour for Dan: his own or an org.settings holder's to open.
    let grant_dan = GrantSupportAccess {
        user: Some(d.dan), length: "1h".into(), mode: Some("view".into()), ticket: String::new(),
        note: String::new(),
    };
    let ask_tina = RequestSupportAccess {
        user: d.tina, reason: "Matrix: asking for support access".into(), ticket: String::new(),
        mode: None,
    };
    // A request answered already: a conflict for whoever may answer.
    let answer_again = AnswerSupportRequest {
        request: d.answered_request, approve: false, length: None, why: "Matrix".into(),
    };
    // Unprotecting a team nobody protected: a no-op when allowed.
    let unprotect_boston = SetProtection { kind: "team".into(), id: d.boston, protect: false };

    let why_tina = Troubleshoot {
        user: "tina@acme.test".into(), permission: "work_orders.complete".into(),
        team: Some(d.boston), vehicle: None, work_order: None,
    };
    let tina_and_dan = Compare {
        user: "tina@acme.test".into(), with: "dan@acme.test".into(), team: None,
        vehicle: None, work_order: None,
    };
    let no_such_fix = ApplyFix {
        user: "tina@acme.test".into(), permission: "work_orders.view".into(), team: d.boston,
        change: "grant".into(), fix_team: d.boston,
    };

    vec![
        //                                                admin sup maria tina dan olga gary none
        row(CurrentUser {},                               [200, 200, 200, 200, 200, 200, 200, 401]),
        row(GetMyAccess {},                               [200, 200, 200, 200, 200, 200, 200, 401]),
        row(ListVehicles { after: None },                 [403, 403, 200, 200, 200, 200, 200, 401]),
        row(GetVehicle { id: d.b101 },                    [404, 404, 200, 200, 403, 200, 404, 401]),
        row(every_work_order(),                           [403, 403, 200, 200, 200, 200, 200, 401]),
        row(GetWorkOrder { id: d.boston_order },          [404, 404, 200, 200, 403, 200, 404, 401]),
        row(GetWorkOrder { id: d.denver_order },          [404, 404, 403, 403, 200, 200, 404, 401]),
        row(set_status(d.boston_order, "in_progress"),    [404, 404, 409, 409, 403, 409, 404, 401]),
        row(complete(d.boston_order),                     [404, 404, 409, 403, 403, 409, 404, 401]),
        row(complete(d.denver_order),                     [404, 404, 403, 403, 409, 409, 404, 401]),
        row(unassign(d.boston_order),                     [404, 404, 409, 403, 403, 409, 404, 401]),
        row(PermissionMatrix {},                          [403, 403, 200, 403, 403, 200, 200, 401]),
        row(grant(d.boston, "work_orders.view"),          [404, 404, 200, 403, 403, 200, 404, 401]),
        row(grant(d.denver, "work_orders.view"),          [404, 404, 403, 403, 403, 200, 404, 401]),
        row(revoke(d.boston, "work_orders.complete"),     [404, 404, 200, 403, 403, 200, 404, 401]),
        row(new_vehicle,                                  [422, 422, 422, 403, 403, 422, 422, 401]),
        row(edit_b101,                                    [404, 404, 409, 403, 403, 409, 404, 401]),
        row(RetireVehicle { id: d.b101, version: STALE }, [404, 404, 409, 403, 403, 409, 404, 401]),
        row(new_order,                                    [404, 404, 200, 403, 403, 200, 404, 401]),
        row(GetDashboard {},                              [200, 200, 200, 200, 200, 200, 200, 401]),
        row(TeamMembers { team: d.boston },               [404, 404, 200, 403, 403, 200, 404, 401]),
        // Tina is already in Boston and Dan is not: both changes are no-ops when allowed.
        row(AddMember { team: d.boston, user: d.tina },   [404, 404, 200, 403, 403, 200, 404, 401]),
        row(RemoveMember { team: d.boston, user: d.dan }, [404, 404, 200, 403, 403, 200, 404, 401]),
        // Operator console and audit.
        row(every_user,                                   [200, 200, 403, 403, 403, 403, 403, 401]),
        row(AdminOrgs {},                                 [200, 200, 403, 403, 403, 403, 403, 401]),
        row(every_event(),                                [200, 200, 403, 403, 403, 200, 200, 401]),
        row(OrgSettings {},                               [200, 200, 200, 200, 200, 200, 200, 401]),
        row(SetConsent { consent: "allowed".into() },     [403, 403, 403, 403, 403, 200, 200, 401]),
        row(view_tina,                                    [200, 200, 403, 403, 403, 403, 403, 401]),
        row(wrong_password,                               [422, 422, 422, 422, 422, 422, 422, 401]),
        // Nobody here is impersonating: a 409 for everyone signed in.
        row(ExitImpersonation {},                         [409, 409, 409, 409, 409, 409, 409, 401]),
        row(inspect_b101,                                 [404, 404, 200, 200, 403, 200, 404, 401]),
        // Customer lifecycle: organisations (orgs.manage: the admin only). Acme is active, so
        // an allowed reactivation is a no-op.
        row(duplicate_org,                                [422, 403, 403, 403, 403, 403, 403, 401]),
        row(SuspendOrganisation { organisation: 999_999 }, [404, 403, 403, 403, 403, 403, 403, 401]),
        row(ReactivateOrganisation { organisation: d.acme }, [200, 403, 403, 403, 403, 403, 403, 401]),
        // Invitations (users.invite on the team): resending a revoked one is gone, revoking
        // it again a no-op.
        row(invite_tina,                                  [404, 404, 422, 403, 403, 422, 404, 401]),
        row(ResendInvitation { invitation: d.revoked_invitation }, [404, 404, 410, 403, 403, 410, 404, 401]),
        row(RevokeInvitation { invitation: d.revoked_invitation }, [404, 404, 200, 403, 403, 200, 404, 401]),
        // Mailed links: a bogus token is gone for everyone, with a session or without.
        row(OpenInvitation { token: BOGUS.into() },       [410, 410, 410, 410, 410, 410, 410, 410]),
        row(accept_bogus,                                 [410, 410, 410, 410, 410, 410, 410, 410]),
        row(CheckResetLink { token: BOGUS.into() },       [410, 410, 410, 410, 410, 410, 410, 410]),
        row(reset_bogus,                                  [410, 410, 410, 410, 410, 410, 410, 410]),
        // The same answer for everyone, whether or not the address has an account.
        row(forgot_nobody,                                [200, 200, 200, 200, 200, 200, 200, 200]),
        // Team tree (teams.manage on the parent): an empty sub-team of Boston, a rename to
        // its own name and a move under its own parent are harmless; deleting Boston is
        // refused while it is not empty.
        row(new_team,                                     [404, 404, 200, 403, 403, 200, 404, 401]),
        row(rename_boston,                                [404, 404, 200, 403, 403, 200, 404, 401]),
        row(MoveTeam { team: d.boston, parent: d.northeast }, [404, 404, 200, 403, 403, 200, 404, 401]),
        row(DeleteTeam { team: d.boston },                [404, 404, 409, 403, 403, 409, 404, 401]),
        // People (teams.view to list; users.deactivate / members.manage on every team of the
        // person, never oneself). Olga is in the root team, out of Maria's reach; Tina is an
        // active technician, so the allowed reactivation and role change are no-ops.
        row(every_person,                                 [403, 403, 200, 403, 403, 200, 200, 401]),
        row(DeactivateUser { user: d.olga },              [404, 404, 403, 403, 403, 403, 404, 401]),
        row(ReactivateUser { user: d.tina },              [404, 404, 200, 403, 403, 200, 404, 401]),
        row(same_role,                                    [404, 404, 200, 403, 403, 200, 404, 401]),
        // Support access: the customer's say (org.settings for others, oneself), never the
        // operator's; revoking a revoked grant is a conflict for its person and org.settings.
        row(GetSupportAccess {},                          [200, 200, 200, 200, 200, 200, 200, 401]),
        row(grant_dan,                                    [403, 403, 403, 403, 200, 200, 404, 401]),
        row(RevokeSupportGrant { grant: d.revoked_grant }, [403, 403, 403, 409, 403, 409, 404, 401]),
        row(SupportNotices {},                            [200, 200, 200, 200, 200, 200, 200, 401]),
        row(DismissNotice { id: "no-such-notice".into() }, [404, 404, 404, 404, 404, 404, 404, 401]),
        row(GetProtections {},                            [403, 403, 403, 403, 403, 200, 200, 401]),
        row(unprotect_boston,                             [403, 403, 403, 403, 403, 200, 404, 401]),
        // Requests: operator staff ask, the customer answers (its person or org.settings).
        row(ask_tina,                                     [200, 200, 403, 403, 403, 403, 403, 401]),
        row(SupportRequests {},                           [200, 200, 200, 200, 200, 200, 200, 401]),
        row(answer_again,                                 [403, 403, 403, 409, 403, 409, 404, 401]),
        // Webhooks: org.settings (customers) or audit.view_all (the operator's). An allowed
        // bad URL is a 422, an allowed test without a webhook a 404.
        row(GetWebhook {},                                [200, 200, 403, 403, 403, 200, 200, 401]),
        row(SetWebhook { url: "ftp://matrix".into() },    [422, 422, 403, 403, 403, 422, 422, 401]),
        row(TestWebhook {},                               [404, 404, 403, 403, 403, 404, 404, 401]),
        // Troubleshooter: oneself, teams.view on the person and team, or access.troubleshoot
        // (operator staff, customers only); another organisation's user is not found. The fix
        // asked for is not offered (Tina already views Boston's work orders): 409 for whoever
        // may make it, 403 for operator staff and those who may not.
        row(why_tina,                                     [200, 200, 200, 200, 403, 200, 404, 401]),
        row(WhatCan { user: "dan@acme.test".into() },     [200, 200, 403, 403, 200, 200, 404, 401]),
        row(tina_and_dan,                                 [200, 200, 403, 403, 403, 200, 404, 401]),
        row(no_such_fix,                                  [403, 403, 409, 403, 403, 409, 404, 401]),
        // Last, as it ends the sessions; without a session it still clears the cookie.
        row(Logout {},                                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ]
}

async fn authorization_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("Acme Logistics"))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("Acme")
        .id;
    let revoked_invitation = {
        use backend::invitation::{self, NewInvitation};
        let email = domain::people::Email::parse("matrix-invitee@acme.test").unwrap();
        let new = NewInvitation {
            organisation_id: acme,
            team_id: app.team_id("Boston Depot").await,
            email: &email,
            full_name: "Matrix Invitee",
            role: domain::people::Role::Technician,
            invited_by: None,
        };
        let (inv, _) = invitation::create(&app.state.db, new).await.unwrap();
        assert!(invitation::revoke(&app.state.db, inv.id).await.unwrap());
        inv.id
    };
    let tina = app.user_id("tina@acme.test").await;
    let revoked_grant = {
        use backend::support_access::{self, NewGrant};
        let g = support_access::open(
            &app.state.db,
            NewGrant {
                organisation_id: acme,
                user_id: tina,
                granted_by: tina,
                mode: domain::impersonation::Mode::View,
                length: domain::support_access::GrantLength::Hour,
                ticket: None,
                note: None,
            },
        )
        .await
        .unwrap();
        assert!(
            support_access::revoke(&app.state.db, g.id, tina)
                .await
                .unwrap()
        );
        g.id
    };
    let answered_request = {
        use backend::support_access::{self, NewRequest};
        let r = support_access::ask(
            &app.state.db,
            NewRequest {
                organisation_id: acme,
                user_id: tina,
                requested_by: tina,
                reason: "Matrix: an answered request".into(),
                ticket: None,
                mode: domain::impersonation::Mode::View,
            },
        )
        .await
        .unwrap();
        assert!(
            support_access::answer(&app.state.db, r.id, tina, false, Some("no".into()), None)
                .await
                .unwrap()
        );
        r.id
    };
    let demo = Demo {
        acme,
        revoked_grant,
        answered_request,
        northeast: app.team_id("Northeast Region").await,
        revoked_invitation,
        olga: app.user_id("olga@acme.test").await,
        boston: app.team_id("Boston Depot").await,
        denver: app.team_id("Denver Depot").await,
        boston_order: app.work_order_id("Replace front brake pads").await,
        denver_order: app.work_order_id("Check engine light").await,
        b101: app.vehicle_id("Box truck B-101").await,
        tina: app.user_id("tina@acme.test").await,
        dan: app.user_id("dan@acme.test").await,
    };
    let mut sessions: Vec<Option<Session>> = Vec::new();
    for who in PRINCIPALS {
        sessions.push(if who.starts_with('(') {
            None
        } else {
            Some(app.sign_in(who).await)
        });
    }
    let mut failures = Vec::new();
    for (call, expected) in matrix(&demo) {
        for (i, who) in PRINCIPALS.iter().enumerate() {
            let status = app.send(sessions[i].as_ref(), &call).await.status();
            if status.as_u16() != expected[i] {
                failures.push(format!(
                    "{call:?} as {who}: got {status}, expected {}",
                    expected[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The matrix changed nothing.
    let completed = work_order::Entity::find()
        .filter(work_order::Column::Status.eq("completed"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(completed, 0);
    let organisations = organisation::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(organisations, 3, "no organisation was created");
    let invitations = invitation::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(invitations, 1, "only the matrix's own, revoked");
    let inactive = user::Entity::find()
        .filter(user::Column::Active.eq(false))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(inactive, 0, "nobody was deactivated");
    let links = password_reset::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(links, 0, "no reset link for an unknown address");
    assert!(
        organisation::Entity::find_by_id(demo.acme)
            .one(&app.state.db)
            .await
            .unwrap()
            .is_some_and(|o| o.suspended_at.is_none())
    );
}

async fn get_order(app: &TestApp, who: &Session, id: WorkOrderId) -> WorkOrderDetail {
    app.call(who, GetWorkOrder { id })
        .await
        .expect("the work order")
}

fn allows(w: &WorkOrderDetail, p: Permission) -> bool {
    w.actions.get(p).unwrap().is_allowed()
}

async fn dan_completes_in_denver_and_a_stale_version_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dan = app.sign_in("dan@acme.test").await;
    let id = app.work_order_id("Check engine light").await;
    let before = get_order(&app, &dan, id).await;
    assert!(allows(&before, Permission::WorkOrdersComplete));

    let complete = CompleteWorkOrder {
        id,
        version: before.version,
    };
    let after = app
        .call(&dan, complete.clone())
        .await
        .expect("Dan completes it");
    assert_eq!(after.status, WorkOrderStatus::Completed);
    assert_eq!(after.version, before.version + 1);

    // The same request again: a clear conflict, not a second completion.
    let again = app.call(&dan, complete).await.unwrap_err();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.to_string(), "This work order is already completed.");

    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Outcome.eq("success"))
        .filter(audit_event::Column::Action.eq("work_orders/complete"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

/// Two people updating one work order: the second gets a conflict, never a silent overwrite.
async fn the_second_of_two_updates_to_one_version_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dan = app.sign_in("dan@acme.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let id = app.work_order_id("Rotate tyres").await;
    let w = get_order(&app, &olga, id).await;
    let set = |status: &str| SetWorkOrderStatus {
        id,
        status: status.into(),
        version: w.version,
    };
    app.call(&olga, set("on_hold"))
        .await
        .expect("the first update");
    let second = app.call(&dan, set("open")).await.unwrap_err();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert!(second.to_string().contains("changed this work order"));
    assert_eq!(
        get_order(&app, &olga, id).await.status,
        WorkOrderStatus::OnHold
    );
}

async fn tina_is_refused_with_the_explanation_and_the_denial_is_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tina = app.sign_in("tina@acme.test").await;
    let id = app.work_order_id("Replace front brake pads").await;
    let w = get_order(&app, &tina, id).await;
    // The page data already says why Complete is off.
    let denial = w
        .actions
        .get(Permission::WorkOrdersComplete)
        .unwrap()
        .denial()
        .unwrap()
        .clone();
    assert_eq!(denial.scope.name, "Boston Depot");
    assert!(allows(&w, Permission::WorkOrdersUpdate));

    // Sent anyway: 403 with the same explanation, nothing written, a denial on the audit log.
    let complete = CompleteWorkOrder {
        id,
        version: w.version,
    };
    let err = app.call(&tina, complete).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let AppError::Forbidden {
        message,
        denial: Some(sent),
    } = err
    else {
        panic!("a denial with its explanation")
    };
    assert_eq!(sent, denial);
    assert!(
        message.contains("work_orders.complete") && message.contains("Boston Depot"),
        "{message}"
    );
    assert!(
        message.contains("Northeast Region"),
        "names a team that grants it: {message}"
    );
    assert_eq!(
        get_order(&app, &tina, id).await.status,
        WorkOrderStatus::Open
    );
    let denied =
        audit_event::Entity::find()
            .filter(audit_event::Column::Outcome.eq("denied"))
            .filter(audit_event::Column::Fields.eq(
                backend::audit::Details::permission(Permission::WorkOrdersComplete).to_stored(),
            ))
            .count(&app.state.db)
            .await
            .unwrap();
    assert_eq!(denied, 1);

    // The twin: she may update the status of the same work order.
    let update = SetWorkOrderStatus {
        id,
        status: "in_progress".into(),
        version: w.version,
    };
    app.call(&tina, update)
        .await
        .expect("Tina updates the status");
}

fn grant(team: i32, permission: &str) -> GrantPermission {
    GrantPermission {
        team,
        permission: permission.into(),
    }
}

async fn a_grant_takes_effect_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tina = app.sign_in("tina@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let id = app.work_order_id("Replace front brake pads").await;
    // Tina's access is cached now, before the grant.
    assert!(!allows(
        &get_order(&app, &tina, id).await,
        Permission::WorkOrdersComplete
    ));

    let boston = app.team_id("Boston Depot").await;
    app.call(&maria, grant(boston, "work_orders.complete"))
        .await
        .expect("Maria grants it");

    let w = get_order(&app, &tina, id).await;
    assert!(allows(&w, Permission::WorkOrdersComplete));
    let complete = CompleteWorkOrder {
        id,
        version: w.version,
    };
    app.call(&tina, complete).await.expect("Tina completes it");
}

async fn a_grant_cannot_escalate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tina = app.sign_in("tina@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    let denver = app.team_id("Denver Depot").await;

    // An operator-only permission never enters a customer organisation…
    let err = app
        .call(&maria, grant(boston, "users.impersonate"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert!(err.to_string().contains("reserved for the operator"));
    // …Maria cannot grant outside her subtree…
    let err = app
        .call(&maria, grant(denver, "work_orders.view"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    // …and Tina, who holds work_orders.view on Boston, cannot grant it (no permissions.grant).
    let err = app
        .call(&tina, grant(boston, "work_orders.view"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
}

async fn a_revocation_takes_effect_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tina = app.sign_in("tina@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let id = app.work_order_id("Oil and filter change").await;
    // Tina's access is cached now, before the revocation.
    assert!(allows(
        &get_order(&app, &tina, id).await,
        Permission::WorkOrdersUpdate
    ));

    let boston = app.team_id("Boston Depot").await;
    let revoke = RevokePermission {
        team: boston,
        permission: "work_orders.update".into(),
    };
    app.call(&maria, revoke).await.expect("Maria revokes it");
    let w = get_order(&app, &tina, id).await;
    assert!(!allows(&w, Permission::WorkOrdersUpdate));
}

async fn invalid_input_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let id = app.work_order_id("Oil and filter change").await;
    let w = get_order(&app, &olga, id).await;
    for status in ["bogus", "completed", ""] {
        let set = SetWorkOrderStatus {
            id,
            status: status.into(),
            version: w.version,
        };
        let err = app.call(&olga, set).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{status}");
        assert!(err.field_message("status").is_some());
    }
    let err = app.call(&olga, grant(1, "nope.nope")).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let assign = AssignWorkOrder {
        id,
        assignee: Some(999_999),
        version: w.version,
    };
    let err = app.call(&olga, assign).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get_order(&app, &olga, id).await.version,
        w.version,
        "nothing was written"
    );
    // An id that is not a number (no typed call can send one).
    let res = app
        .send_form::<GetWorkOrder>(&olga, &[("id", "not-a-number")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

fn new_vehicle(team: i32, vin: &str) -> CreateVehicle {
    CreateVehicle {
        team,
        name: "Van B-104".into(),
        vin: vin.into(),
        make: "Ford".into(),
        model: "Transit".into(),
        year: "2023".into(),
        plate: "MA 9ZZ104".into(),
        odometer: "12".into(),
    }
}

/// Bad input: every problem named at once, nothing written.
async fn a_bad_vehicle_has_every_problem_named_and_writes_nothing(backend: Backend) {
    use backend::entity::vehicle;
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    let count = || async { vehicle::Entity::find().count(&app.state.db).await.unwrap() };
    let before = count().await;

    let bad = CreateVehicle {
        team: boston,
        name: String::new(),
        vin: "SHORT".into(),
        make: "Ford".into(),
        model: "T".into(),
        year: "1900".into(),
        plate: "X".into(),
        odometer: String::new(),
    };
    let err = app.call(&maria, bad).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["name", "vin", "year"] {
        assert!(err.field_message(field).is_some(), "{field}: {err:?}");
    }
    assert_eq!(count().await, before);
}

async fn vehicles_are_added_edited_and_retired_with_validation(backend: Backend) {
    use domain::fleet::VehicleStatus;
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await;

    let van = new_vehicle(boston, "1ftbw2cm8lka10104");
    let id = app
        .call(&maria, van.clone())
        .await
        .expect("Maria adds a vehicle");
    // The same VIN again is refused.
    let again = app.call(&maria, van).await.unwrap_err();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let detail = app
        .call(&maria, GetVehicle { id })
        .await
        .expect("the vehicle");
    assert_eq!(
        detail.vehicle.vin.as_str(),
        "1FTBW2CM8LKA10104",
        "VINs are stored upper-case"
    );
    let retire = RetireVehicle {
        id,
        version: detail.version,
    };
    app.call(&maria, retire).await.expect("Maria retires it");
    let detail = app
        .call(&maria, GetVehicle { id })
        .await
        .expect("the vehicle");
    assert_eq!(detail.vehicle.status, VehicleStatus::Retired);
    // The twin: Tina may view it but not retire it.
    let tina = app.sign_in("tina@acme.test").await;
    let retire = RetireVehicle {
        id,
        version: detail.version,
    };
    let err = app.call(&tina, retire).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
}

/// The checklist with every item passed but the brakes, if `brakes_ok` is false (with `note`).
fn checklist(brakes_ok: bool, note: &str) -> Vec<ChecklistItem> {
    CHECKLIST
        .iter()
        .map(|i| ChecklistItem {
            item: (*i).to_owned(),
            ok: *i != "Brakes" || brakes_ok,
            note: if *i == "Brakes" { note } else { "" }.to_owned(),
        })
        .collect()
}

async fn a_failed_inspection_opens_a_work_order_in_one_transaction(backend: Backend) {
    use backend::entity::inspection;
    let app = TestApp::spawn(backend).await;
    let b101 = app.vehicle_id("Box truck B-101").await;
    let inspections = || async {
        inspection::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap()
    };
    let orders = || async {
        work_order::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap()
    };
    let (i0, w0) = (inspections().await, orders().await);
    let failed_brakes = SubmitInspection {
        vehicle: b101,
        items: checklist(false, "Pads worn"),
        open_work_order: true,
    };

    // Tina may inspect but not open work orders: asking for one refuses the whole submission.
    let tina = app.sign_in("tina@acme.test").await;
    let err = app.call(&tina, failed_brakes.clone()).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        (inspections().await, orders().await),
        (i0, w0),
        "no partial write"
    );

    // Maria's failed inspection opens a work order with the failure, in the same transaction.
    let maria = app.sign_in("maria@acme.test").await;
    let opened = app
        .call(&maria, failed_brakes)
        .await
        .expect("Maria's inspection");
    let w = get_order(&app, &maria, opened.expect("a work order")).await;
    assert_eq!(w.title, "Inspection failed: Brakes");
    assert!(w.description.contains("Pads worn"));
    assert_eq!((inspections().await, orders().await), (i0 + 1, w0 + 1));
}

async fn a_failed_inspection_item_needs_a_note(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b101 = app.vehicle_id("Box truck B-101").await;
    let tina = app.sign_in("tina@acme.test").await;
    let no_note = SubmitInspection {
        vehicle: b101,
        items: checklist(false, " "),
        open_work_order: false,
    };
    let err = app.call(&tina, no_note).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn membership_changes_take_effect_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let dan = app.sign_in("dan@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    let dan_id = app.user_id("dan@acme.test").await;
    let boston_order = GetWorkOrder {
        id: app.work_order_id("Oil and filter change").await,
    };
    let refused = app.call(&dan, boston_order.clone()).await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let add = AddMember {
        team: boston,
        user: dan_id,
    };
    app.call(&maria, add).await.expect("Maria adds Dan");
    app.call(&dan, boston_order.clone())
        .await
        .expect("Dan sees Boston's work order");
    let members = app
        .call(&maria, TeamMembers { team: boston })
        .await
        .expect("Boston's members");
    assert!(members.members.iter().any(|m| m.name == "Dan Brooks"));

    let remove = RemoveMember {
        team: boston,
        user: dan_id,
    };
    app.call(&maria, remove).await.expect("Maria removes Dan");
    let refused = app.call(&dan, boston_order).await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

async fn someone_of_another_organisation_cannot_be_added(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let add_gary = AddMember {
        team: app.team_id("Boston Depot").await,
        user: app.user_id("gary@globex.test").await,
    };
    let err = app.call(&maria, add_gary).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn work_orders_filter_by_status_team_and_assignee(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let list = |filter: ListWorkOrders| {
        let (app, olga) = (&app, &olga);
        async move { app.call(olga, filter).await.expect("a list") }
    };
    let all = list(every_work_order()).await;
    assert_eq!(
        all.rows.len(),
        5,
        "Acme's five work orders, none of Globex's"
    );
    let names: Vec<_> = all.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Acme Logistics",
            "Northeast Region",
            "West Region",
            "Boston Depot",
            "Denver Depot"
        ]
    );
    let denver = app.team_id("Denver Depot").await;
    let west = app.team_id("West Region").await;
    let by_team = list(ListWorkOrders {
        team: Some(denver),
        ..every_work_order()
    })
    .await;
    assert!(by_team.rows.iter().all(|w| w.team == "Denver Depot") && by_team.rows.len() == 2);
    // A team filter covers the team's subtree.
    let by_region = list(ListWorkOrders {
        team: Some(west),
        ..every_work_order()
    })
    .await;
    assert_eq!(by_region.rows.len(), 2);
    let tina = all
        .assignees
        .iter()
        .find(|u| u.name == "Tina Nguyen")
        .unwrap()
        .id;
    let hers = list(ListWorkOrders {
        assignee: Some(tina),
        ..every_work_order()
    })
    .await;
    assert!(
        hers.rows
            .iter()
            .all(|w| w.assignee.as_deref() == Some("Tina Nguyen"))
            && hers.rows.len() == 2
    );
    let open = list(ListWorkOrders {
        status: Some("open".into()),
        ..every_work_order()
    })
    .await;
    assert!(open.rows.iter().all(|w| w.status == WorkOrderStatus::Open) && open.rows.len() == 3);
    // Tina sees only Boston's.
    let tina = app.sign_in("tina@acme.test").await;
    let mine = app
        .call(&tina, every_work_order())
        .await
        .expect("Tina's list");
    assert!(mine.rows.iter().all(|w| w.team == "Boston Depot"));
}

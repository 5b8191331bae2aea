//! Authorisation through the real HTTP API, on SQLite and PostgreSQL: deny by default, the
//! authorisation matrix (every server function × every demo principal), and the fleet flows.

mod common;

use app::error::AppError;
use app::model::WorkOrderDetail;
use backend::entity::{audit_event, work_order};
use common::{Backend, TestApp, app_error};
use domain::fleet::WorkOrderStatus;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

on_both_databases!(
    authorization_matrix,
    dan_completes_in_denver_and_a_stale_version_conflicts,
    tina_is_refused_with_the_explanation_and_the_denial_is_audited,
    a_grant_takes_effect_at_once_and_cannot_escalate,
    invalid_input_writes_nothing,
    membership_changes_take_effect_at_once,
    work_orders_filter_by_status_team_and_assignee,
    vehicles_are_added_edited_and_retired_with_validation,
    a_failed_inspection_opens_a_work_order_in_one_transaction,
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
            app::api::policy::lookup(path).is_some(),
            "{path} has no declared policy"
        );
    }
    for policy in app::api::policy::POLICIES {
        assert!(
            registered.iter().any(|r| r == policy.path),
            "{} is not a server function",
            policy.path
        );
    }
}

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

/// Every server function × every principal → the status the demo grants imply. Writes are sent
/// against a stale version (999), so "allowed" shows as 409 and nothing changes; grants and
/// revocations are chosen to be no-ops. 404 is another organisation's resource.
async fn authorization_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston_wo = app
        .work_order_id("Replace front brake pads")
        .await
        .to_string();
    let denver_wo = app.work_order_id("Check engine light").await.to_string();
    let b101 = app.vehicle_id("Box truck B-101").await.to_string();
    let boston = app.team_id("Boston Depot").await.to_string();
    let denver = app.team_id("Denver Depot").await.to_string();

    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, [u16; 8]);
    //                                                     admin sup maria tina dan olga gary none
    let cases: Vec<Case> = vec![
        ("me", vec![], [200, 200, 200, 200, 200, 200, 200, 401]),
        (
            "access/mine",
            vec![],
            [200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "vehicles/list",
            vec![],
            [403, 403, 200, 200, 200, 200, 200, 401],
        ),
        (
            "vehicles/get",
            vec![("id", &b101)],
            [404, 404, 200, 200, 403, 200, 404, 401],
        ),
        (
            "work_orders/list",
            vec![],
            [403, 403, 200, 200, 200, 200, 200, 401],
        ),
        (
            "work_orders/get",
            vec![("id", &boston_wo)],
            [404, 404, 200, 200, 403, 200, 404, 401],
        ),
        (
            "work_orders/get",
            vec![("id", &denver_wo)],
            [404, 404, 403, 403, 200, 200, 404, 401],
        ),
        (
            "work_orders/status",
            vec![
                ("id", &boston_wo),
                ("status", "in_progress"),
                ("version", "999"),
            ],
            [404, 404, 409, 409, 403, 409, 404, 401],
        ),
        (
            "work_orders/complete",
            vec![("id", &boston_wo), ("version", "999")],
            [404, 404, 409, 403, 403, 409, 404, 401],
        ),
        (
            "work_orders/complete",
            vec![("id", &denver_wo), ("version", "999")],
            [404, 404, 403, 403, 409, 409, 404, 401],
        ),
        (
            "work_orders/assign",
            vec![("id", &boston_wo), ("version", "999")],
            [404, 404, 409, 403, 403, 409, 404, 401],
        ),
        (
            "teams/matrix",
            vec![],
            [403, 403, 200, 403, 403, 200, 200, 401],
        ),
        (
            "permissions/grant",
            vec![("team", &boston), ("permission", "work_orders.view")],
            [404, 404, 200, 403, 403, 200, 404, 401],
        ),
        (
            "permissions/grant",
            vec![("team", &denver), ("permission", "work_orders.view")],
            [404, 404, 403, 403, 403, 200, 404, 401],
        ),
        (
            "permissions/revoke",
            vec![("team", &boston), ("permission", "work_orders.complete")],
            [404, 404, 200, 403, 403, 200, 404, 401],
        ),
    ];

    let tina_id = app.user_id("tina@acme.test").await.to_string();
    let dan_id = app.user_id("dan@acme.test").await.to_string();
    let vin = "1FDWE3FL6HDC10101"; // B-101's own VIN: an allowed create fails as a duplicate (422)
    let vehicle_form = |extra: Vec<(&'static str, String)>| {
        let mut f: Vec<(&str, String)> = vec![
            ("name", "Matrix van".into()),
            ("vin", vin.into()),
            ("make", "Ford".into()),
            ("model", "Transit".into()),
            ("year", "2022".into()),
            ("plate", "MA 1".into()),
            ("odometer", "10".into()),
        ];
        f.extend(extra);
        f
    };
    let create_form = vehicle_form(vec![("team", boston.clone())]);
    let edit_form = vehicle_form(vec![("id", b101.clone()), ("version", "999".into())]);
    let as_refs = |f: &Vec<(&'static str, String)>| {
        f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    let create_form = as_refs(&create_form);
    let edit_form = as_refs(&edit_form);
    let owned: Vec<Case> = vec![
        //                                                          admin sup maria tina dan olga gary none
        (
            "vehicles/create",
            create_form.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            [422, 422, 422, 403, 403, 422, 422, 401],
        ),
        (
            "vehicles/edit",
            edit_form.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            [404, 404, 409, 403, 403, 409, 404, 401],
        ),
        (
            "vehicles/retire",
            vec![("id", &b101), ("version", "999")],
            [404, 404, 409, 403, 403, 409, 404, 401],
        ),
        (
            "work_orders/create",
            vec![
                ("vehicle", &b101),
                ("title", "Matrix"),
                ("description", ""),
                ("priority", "low"),
                ("due_on", ""),
            ],
            [404, 404, 200, 403, 403, 200, 404, 401],
        ),
        (
            "dashboard",
            vec![],
            [200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "teams/members",
            vec![("team", &boston)],
            [404, 404, 200, 403, 403, 200, 404, 401],
        ),
        // Tina is already in Boston and Dan is not: both changes are no-ops when allowed.
        (
            "members/add",
            vec![("team", &boston), ("user", &tina_id)],
            [404, 404, 200, 403, 403, 200, 404, 401],
        ),
        (
            "members/remove",
            vec![("team", &boston), ("user", &dan_id)],
            [404, 404, 200, 403, 403, 200, 404, 401],
        ),
        // Operator console and audit.
        (
            "admin/users",
            vec![],
            [200, 200, 403, 403, 403, 403, 403, 401],
        ),
        (
            "admin/orgs",
            vec![],
            [200, 200, 403, 403, 403, 403, 403, 401],
        ),
        (
            "audit/list",
            vec![],
            [200, 200, 403, 403, 403, 200, 200, 401],
        ),
        (
            "org/settings",
            vec![],
            [200, 200, 200, 200, 200, 200, 200, 401],
        ),
        (
            "org/consent",
            vec![("consent", "allowed")],
            [403, 403, 403, 403, 403, 200, 200, 401],
        ),
        (
            "impersonation/start",
            vec![
                ("user", &tina_id),
                ("reason", "Matrix: checking who may start"),
                ("ticket", ""),
                ("mode", "view"),
                ("minutes", "5"),
            ],
            [200, 200, 403, 403, 403, 403, 403, 401],
        ),
        // A wrong current password: 422 for everyone signed in (the guard let them through).
        (
            "account/password",
            vec![
                ("current", "wrong"),
                ("new", "long-enough-passphrase"),
                ("repeat", "long-enough-passphrase"),
            ],
            [422, 422, 422, 422, 422, 422, 422, 401],
        ),
        // Nobody here is impersonating: a 409 for everyone signed in.
        (
            "impersonation/exit",
            vec![],
            [409, 409, 409, 409, 409, 409, 409, 401],
        ),
    ];
    let cases: Vec<Case> = cases.into_iter().chain(owned).collect();
    let checklist: Vec<serde_json::Value> = app::model::CHECKLIST
        .iter()
        .map(|i| serde_json::json!({"item": i, "ok": true, "note": ""}))
        .collect();
    let inspection = serde_json::json!({"vehicle": b101.parse::<i32>().unwrap(), "items": checklist, "open_work_order": false});
    let inspection_expected: [u16; 8] = [404, 404, 200, 200, 403, 200, 404, 401];

    let mut cookies = Vec::new();
    for who in PRINCIPALS {
        cookies.push(if who.starts_with('(') {
            None
        } else {
            Some(app.sign_in(who).await)
        });
    }
    let mut failures = Vec::new();
    for (endpoint, form, expected) in &cases {
        for (i, who) in PRINCIPALS.iter().enumerate() {
            let res = app.call(endpoint, cookies[i].as_deref(), form).await;
            if res.status().as_u16() != expected[i] {
                failures.push(format!(
                    "{endpoint} {form:?} as {who}: got {}, expected {}",
                    res.status(),
                    expected[i]
                ));
            }
        }
    }
    for (i, who) in PRINCIPALS.iter().enumerate() {
        let res = app
            .call_json("inspections/submit", cookies[i].as_deref(), &inspection)
            .await;
        if res.status().as_u16() != inspection_expected[i] {
            failures.push(format!(
                "inspections/submit as {who}: got {}, expected {}",
                res.status(),
                inspection_expected[i]
            ));
        }
    }
    // Signing out works for everyone with a session (last: it ends the sessions).
    for (i, who) in PRINCIPALS.iter().enumerate() {
        let expected = if cookies[i].is_some() { 200 } else { 401 };
        let status = app
            .call("logout", cookies[i].as_deref(), &[])
            .await
            .status()
            .as_u16();
        // Signing out without a session still clears the cookie: 200 for everyone.
        if status != 200 {
            failures.push(format!(
                "logout as {who}: got {status}, expected 200 (session: {expected})"
            ));
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
}

async fn get_order(app: &TestApp, cookie: &str, id: i32) -> WorkOrderDetail {
    let res = app
        .call("work_orders/get", Some(cookie), &[("id", &id.to_string())])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn dan_completes_in_denver_and_a_stale_version_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dan = app.sign_in("dan@acme.test").await;
    let id = app.work_order_id("Check engine light").await;
    let before = get_order(&app, &dan, id).await;
    assert!(
        before
            .actions
            .get(domain::authz::Permission::WorkOrdersComplete)
            .unwrap()
            .is_allowed()
    );

    let v = before.version.to_string();
    let res = app
        .call(
            "work_orders/complete",
            Some(&dan),
            &[("id", &id.to_string()), ("version", &v)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after: WorkOrderDetail = res.json().await.unwrap();
    assert_eq!(after.status, WorkOrderStatus::Completed);
    assert_eq!(after.version, before.version + 1);

    // The same request again: a clear conflict, not a second completion.
    let res = app
        .call(
            "work_orders/complete",
            Some(&dan),
            &[("id", &id.to_string()), ("version", &v)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        app_error(res).await.to_string(),
        "This work order is already completed."
    );

    // Two people updating one work order: the second gets a conflict, never a silent overwrite.
    let olga = app.sign_in("olga@acme.test").await;
    let other = app.work_order_id("Rotate tyres").await;
    let w = get_order(&app, &olga, other).await;
    let v = w.version.to_string();
    let first = app
        .call(
            "work_orders/status",
            Some(&olga),
            &[
                ("id", &other.to_string()),
                ("status", "on_hold"),
                ("version", &v),
            ],
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let second = app
        .call(
            "work_orders/status",
            Some(&dan),
            &[
                ("id", &other.to_string()),
                ("status", "open"),
                ("version", &v),
            ],
        )
        .await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert!(
        app_error(second)
            .await
            .to_string()
            .contains("changed this work order")
    );
    assert_eq!(
        get_order(&app, &olga, other).await.status,
        WorkOrderStatus::OnHold
    );

    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Outcome.eq("success"))
        .filter(audit_event::Column::Action.eq("work_orders/complete"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

async fn tina_is_refused_with_the_explanation_and_the_denial_is_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tina = app.sign_in("tina@acme.test").await;
    let id = app.work_order_id("Replace front brake pads").await;
    let w = get_order(&app, &tina, id).await;
    // The page data already says why Complete is off.
    let denial = w
        .actions
        .get(domain::authz::Permission::WorkOrdersComplete)
        .unwrap()
        .denial()
        .unwrap()
        .clone();
    assert_eq!(denial.scope.name, "Boston Depot");
    assert!(
        w.actions
            .get(domain::authz::Permission::WorkOrdersUpdate)
            .unwrap()
            .is_allowed()
    );

    // Sent anyway: 403 with the same explanation, nothing written, a denial on the audit log.
    let res = app
        .call(
            "work_orders/complete",
            Some(&tina),
            &[("id", &id.to_string()), ("version", &w.version.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let AppError::Forbidden {
        message,
        denial: Some(sent),
    } = app_error(res).await
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
    let denied = audit_event::Entity::find()
        .filter(audit_event::Column::Outcome.eq("denied"))
        .filter(
            audit_event::Column::Fields.eq(backend::audit::Details::permission(
                domain::authz::Permission::WorkOrdersComplete,
            )
            .to_stored()),
        )
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(denied, 1);

    // The twin: she may update the status of the same work order.
    let res = app
        .call(
            "work_orders/status",
            Some(&tina),
            &[
                ("id", &id.to_string()),
                ("status", "in_progress"),
                ("version", &w.version.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_grant_takes_effect_at_once_and_cannot_escalate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tina = app.sign_in("tina@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let id = app.work_order_id("Replace front brake pads").await;
    // Tina's access is cached now, before the grant.
    assert!(
        !get_order(&app, &tina, id)
            .await
            .actions
            .get(domain::authz::Permission::WorkOrdersComplete)
            .unwrap()
            .is_allowed()
    );

    let boston = app.team_id("Boston Depot").await.to_string();
    let res = app
        .call(
            "permissions/grant",
            Some(&maria),
            &[("team", &boston), ("permission", "work_orders.complete")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let w = get_order(&app, &tina, id).await;
    assert!(
        w.actions
            .get(domain::authz::Permission::WorkOrdersComplete)
            .unwrap()
            .is_allowed()
    );
    let res = app
        .call(
            "work_orders/complete",
            Some(&tina),
            &[("id", &id.to_string()), ("version", &w.version.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // No escalation: an operator-only permission never enters a customer organisation…
    let res = app
        .call(
            "permissions/grant",
            Some(&maria),
            &[("team", &boston), ("permission", "users.impersonate")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        app_error(res)
            .await
            .to_string()
            .contains("reserved for the operator")
    );
    // …Maria cannot grant outside her subtree…
    let denver = app.team_id("Denver Depot").await.to_string();
    let res = app
        .call(
            "permissions/grant",
            Some(&maria),
            &[("team", &denver), ("permission", "work_orders.view")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // …and Tina, who holds work_orders.view on Boston, cannot grant it (no permissions.grant).
    let res = app
        .call(
            "permissions/grant",
            Some(&tina),
            &[("team", &boston), ("permission", "work_orders.view")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Revoking takes effect at once too.
    let res = app
        .call(
            "permissions/revoke",
            Some(&maria),
            &[("team", &boston), ("permission", "work_orders.update")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let other = app.work_order_id("Oil and filter change").await;
    let w = get_order(&app, &tina, other).await;
    assert!(
        !w.actions
            .get(domain::authz::Permission::WorkOrdersUpdate)
            .unwrap()
            .is_allowed()
    );
}

async fn invalid_input_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let id = app.work_order_id("Oil and filter change").await;
    let w = get_order(&app, &olga, id).await;
    let v = w.version.to_string();
    for status in ["bogus", "completed", ""] {
        let res = app
            .call(
                "work_orders/status",
                Some(&olga),
                &[("id", &id.to_string()), ("status", status), ("version", &v)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{status}");
        assert!(app_error(res).await.field_message("status").is_some());
    }
    let res = app
        .call(
            "permissions/grant",
            Some(&olga),
            &[("team", "1"), ("permission", "nope.nope")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .call(
            "work_orders/assign",
            Some(&olga),
            &[
                ("id", &id.to_string()),
                ("assignee", "999999"),
                ("version", &v),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get_order(&app, &olga, id).await.version,
        w.version,
        "nothing was written"
    );
    let res = app
        .call("work_orders/get", Some(&olga), &[("id", "not-a-number")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn vehicles_are_added_edited_and_retired_with_validation(backend: Backend) {
    use app::model::VehicleDetail;
    use backend::entity::vehicle;
    use domain::fleet::VehicleStatus;
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await.to_string();
    let count = || async { vehicle::Entity::find().count(&app.state.db).await.unwrap() };
    let before = count().await;

    // Bad input: every problem named at once, nothing written.
    let res = app
        .call(
            "vehicles/create",
            Some(&maria),
            &[
                ("team", &boston),
                ("name", ""),
                ("vin", "SHORT"),
                ("make", "Ford"),
                ("model", "T"),
                ("year", "1900"),
                ("plate", "X"),
                ("odometer", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = app_error(res).await;
    for field in ["name", "vin", "year"] {
        assert!(err.field_message(field).is_some(), "{field}: {err:?}");
    }
    assert_eq!(count().await, before);

    let form = |vin: &'static str| {
        vec![
            ("team", boston.clone()),
            ("name", "Van B-104".to_owned()),
            ("vin", vin.to_owned()),
            ("make", "Ford".into()),
            ("model", "Transit".into()),
            ("year", "2023".into()),
            ("plate", "MA 9ZZ104".into()),
            ("odometer", "12".into()),
        ]
    };
    let f = form("1ftbw2cm8lka10104");
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.call("vehicles/create", Some(&maria), &f).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id: i32 = res.json().await.unwrap();
    // The same VIN again is refused.
    assert_eq!(
        app.call("vehicles/create", Some(&maria), &f).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let detail: VehicleDetail = app
        .call("vehicles/get", Some(&maria), &[("id", &id.to_string())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail.vehicle.vin, "1FTBW2CM8LKA10104",
        "VINs are stored upper-case"
    );
    let v = detail.version.to_string();
    let res = app
        .call(
            "vehicles/retire",
            Some(&maria),
            &[("id", &id.to_string()), ("version", &v)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail: VehicleDetail = app
        .call("vehicles/get", Some(&maria), &[("id", &id.to_string())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.vehicle.status, VehicleStatus::Retired);
    // The twin: Tina may view it but not retire it.
    let tina = app.sign_in("tina@acme.test").await;
    let res = app
        .call(
            "vehicles/retire",
            Some(&tina),
            &[
                ("id", &id.to_string()),
                ("version", &detail.version.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn a_failed_inspection_opens_a_work_order_in_one_transaction(backend: Backend) {
    use backend::entity::inspection;
    let app = TestApp::spawn(backend).await;
    let b101 = app.vehicle_id("Box truck B-101").await;
    let items = |brakes_ok: bool, note: &str| -> serde_json::Value {
        app::model::CHECKLIST
            .iter()
            .map(|i| serde_json::json!({"item": i, "ok": *i != "Brakes" || brakes_ok, "note": if *i == "Brakes" { note } else { "" }}))
            .collect()
    };
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

    // Tina may inspect but not open work orders: asking for one refuses the whole submission.
    let tina = app.sign_in("tina@acme.test").await;
    let body = serde_json::json!({"vehicle": b101, "items": items(false, "Pads worn"), "open_work_order": true});
    let res = app
        .call_json("inspections/submit", Some(&tina), &body)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        (inspections().await, orders().await),
        (i0, w0),
        "no partial write"
    );

    // A failed item needs a note.
    let body =
        serde_json::json!({"vehicle": b101, "items": items(false, " "), "open_work_order": false});
    let res = app
        .call_json("inspections/submit", Some(&tina), &body)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Maria's failed inspection opens a work order with the failure, in the same transaction.
    let maria = app.sign_in("maria@acme.test").await;
    let body = serde_json::json!({"vehicle": b101, "items": items(false, "Pads worn"), "open_work_order": true});
    let res = app
        .call_json("inspections/submit", Some(&maria), &body)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let opened: Option<i32> = res.json().await.unwrap();
    let w = get_order(&app, &maria, opened.expect("a work order")).await;
    assert_eq!(w.title, "Inspection failed: Brakes");
    assert!(w.description.contains("Pads worn"));
    assert_eq!((inspections().await, orders().await), (i0 + 1, w0 + 1));
}

async fn membership_changes_take_effect_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let dan = app.sign_in("dan@acme.test").await;
    let boston = app.team_id("Boston Depot").await.to_string();
    let dan_id = app.user_id("dan@acme.test").await.to_string();
    let boston_order = app.work_order_id("Oil and filter change").await.to_string();
    assert_eq!(
        app.call("work_orders/get", Some(&dan), &[("id", &boston_order)])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let res = app
        .call(
            "members/add",
            Some(&maria),
            &[("team", &boston), ("user", &dan_id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.call("work_orders/get", Some(&dan), &[("id", &boston_order)])
            .await
            .status(),
        StatusCode::OK
    );
    let members: app::model::TeamMembers = app
        .call("teams/members", Some(&maria), &[("team", &boston)])
        .await
        .json()
        .await
        .unwrap();
    assert!(members.members.iter().any(|m| m.name == "Dan Brooks"));

    let res = app
        .call(
            "members/remove",
            Some(&maria),
            &[("team", &boston), ("user", &dan_id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.call("work_orders/get", Some(&dan), &[("id", &boston_order)])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Someone of another organisation cannot be added.
    let gary_id = app.user_id("gary@globex.test").await.to_string();
    let res = app
        .call(
            "members/add",
            Some(&maria),
            &[("team", &boston), ("user", &gary_id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn work_orders_filter_by_status_team_and_assignee(backend: Backend) {
    use app::model::WorkOrderList;
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let list = |form: Vec<(&'static str, String)>| {
        let (app, olga) = (&app, olga.clone());
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call("work_orders/list", Some(&olga), &f)
                .await
                .json::<WorkOrderList>()
                .await
                .unwrap()
        }
    };
    let all = list(vec![]).await;
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
    let denver = app.team_id("Denver Depot").await.to_string();
    let west = app.team_id("West Region").await.to_string();
    let by_team = list(vec![("team", denver)]).await;
    assert!(by_team.rows.iter().all(|w| w.team == "Denver Depot") && by_team.rows.len() == 2);
    // A team filter covers the team's subtree.
    assert_eq!(list(vec![("team", west)]).await.rows.len(), 2);
    let tina = all
        .assignees
        .iter()
        .find(|u| u.name == "Tina Nguyen")
        .unwrap()
        .id
        .to_string();
    let hers = list(vec![("assignee", tina)]).await;
    assert!(
        hers.rows
            .iter()
            .all(|w| w.assignee.as_deref() == Some("Tina Nguyen"))
            && hers.rows.len() == 2
    );
    let open = list(vec![("status", "open".into())]).await;
    assert!(open.rows.iter().all(|w| w.status == WorkOrderStatus::Open) && open.rows.len() == 3);
    // Tina sees only Boston's.
    let tina_cookie = app.sign_in("tina@acme.test").await;
    let mine: WorkOrderList = app
        .call("work_orders/list", Some(&tina_cookie), &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.rows.iter().all(|w| w.team == "Boston Depot"));
}

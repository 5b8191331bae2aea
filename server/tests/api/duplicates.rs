//! Concurrent duplicates, over real HTTP on SQLite and PostgreSQL: requests racing for one
//! unique value get the field's message (or a conflict), never a 500, and exactly one wins.

use crate::support::{Backend, TestApp, audited, van, with_vin};
use app::api::vehicles::{CreateVehicle, EditVehicle, GetVehicle, ListVehicles};
use app::error::AppError;
use reqwest::StatusCode;

on_both_databases!(
    a_duplicate_vin_one_request_at_a_time_is_the_fields_message,
    parallel_creates_with_one_vin_make_one_vehicle,
    parallel_edits_to_one_vin_change_one_vehicle,
    a_unique_violation_anywhere_is_a_conflict_never_a_500,
);

const VIN: &str = "1FTBW2CM8LKA10199";
const MESSAGE: &str = "A vehicle with this VIN is already registered.";

/// Exactly one success; every other answer a 422 naming the `vin` field; nothing else.
fn one_wins<T: std::fmt::Debug>(answers: &[Result<T, AppError>]) {
    let won = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(won, 1, "{answers:?}");
    for err in answers.iter().filter_map(|a| a.as_ref().err()) {
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{err:?}");
        assert_eq!(err.field_message("vin"), Some(MESSAGE), "{err:?}");
    }
}

/// The everyday duplicate, one request at a time: only the unique index refuses it (nothing
/// reads for the VIN first), with the VIN field's message; nothing is written or audited. An
/// edit that keeps its own VIN is no duplicate; an edit from a stale form is told it is stale
/// (409) before anything about its VIN.
async fn a_duplicate_vin_one_request_at_a_time_is_the_fields_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    let rows = app
        .call(&maria, ListVehicles { after: None })
        .await
        .expect("Maria's vehicles")
        .rows;
    let taken = rows[0].vin.as_str().to_owned();

    let err = app
        .call(&maria, van(boston, &taken))
        .await
        .expect_err("the VIN is taken");
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{err:?}");
    assert_eq!(err.field_message("vin"), Some(MESSAGE), "{err:?}");
    assert_eq!(with_vin(&app, &taken).await, 1);
    assert_eq!(audited(&app, "vehicles/create").await, 0);

    let other = app
        .call(&maria, GetVehicle { id: rows[1].id })
        .await
        .expect("the second vehicle");
    let edit = |vin: &str, version: i32| EditVehicle {
        id: other.vehicle.id,
        version,
        name: other.vehicle.name.clone(),
        vin: vin.to_owned(),
        make: other.vehicle.make.clone(),
        model: other.vehicle.model.clone(),
        year: other.vehicle.year.to_string(),
        plate: other.vehicle.plate.clone(),
        odometer: other.odometer.to_string(),
    };
    let err = app
        .call(&maria, edit(&taken, other.version))
        .await
        .expect_err("the VIN is another vehicle's");
    assert_eq!(err.field_message("vin"), Some(MESSAGE), "{err:?}");
    let stale = app
        .call(&maria, edit(&taken, other.version + 1))
        .await
        .expect_err("the form is stale");
    assert_eq!(stale.status(), StatusCode::CONFLICT, "{stale:?}");
    assert_eq!(with_vin(&app, &taken).await, 1);
    assert_eq!(audited(&app, "vehicles/edit").await, 0);

    // The twin: keeping its own VIN is no duplicate.
    let own = other.vehicle.vin.as_str().to_owned();
    app.call(&maria, edit(&own, other.version))
        .await
        .expect("an edit that keeps the vehicle's own VIN");
    assert_eq!(audited(&app, "vehicles/edit").await, 1);
}

async fn parallel_creates_with_one_vin_make_one_vehicle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let van = CreateVehicle {
        team: app.team_id("Boston Depot").await,
        name: "Van B-199".into(),
        vin: VIN.into(),
        make: "Ford".into(),
        model: "Transit".into(),
        year: "2023".into(),
        plate: "MA 9ZZ199".into(),
        odometer: "12".into(),
    };
    let answers = app.call_all_at_once(&maria, vec![van; 12]).await;
    one_wins(&answers);
    assert_eq!(with_vin(&app, VIN).await, 1);
    assert_eq!(audited(&app, "vehicles/create").await, 1);
}

async fn parallel_edits_to_one_vin_change_one_vehicle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let list = app
        .call(&maria, ListVehicles { after: None })
        .await
        .expect("Maria's vehicles");
    assert!(
        list.rows.len() >= 2,
        "the demo gives Maria several vehicles"
    );
    let mut edits = Vec::new();
    for row in list.rows.iter().take(6) {
        let d = app
            .call(&maria, GetVehicle { id: row.id })
            .await
            .expect("the vehicle");
        let v = d.vehicle;
        edits.push(EditVehicle {
            id: v.id,
            version: d.version,
            name: v.name,
            vin: VIN.to_owned(),
            make: v.make,
            model: v.model,
            year: v.year.to_string(),
            plate: v.plate,
            odometer: d.odometer.to_string(),
        });
    }
    let answers = app.call_all_at_once(&maria, edits).await;
    one_wins(&answers);
    assert_eq!(with_vin(&app, VIN).await, 1);
    assert_eq!(audited(&app, "vehicles/edit").await, 1);
}

/// The fallback for a write that names no field: whatever unique index refuses it, on either
/// engine, the answer is 409, while other database errors stay 500.
async fn a_unique_violation_anywhere_is_a_conflict_never_a_500(backend: Backend) {
    use backend::entity::membership;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::spawn(backend).await;
    let row = |user_id, team_id| membership::ActiveModel {
        user_id: Set(user_id),
        team_id: Set(team_id),
        created_at: Set(chrono::Utc::now()),
    };
    let (maria, northeast) = (
        app.user_id("maria@acme.test").await,
        app.team_id("Northeast Region").await,
    );
    let e = row(maria, northeast)
        .insert(&app.state.db)
        .await
        .expect_err("Maria is already a member of Northeast Region");
    assert!(backend::repo::is_duplicate(&e), "{e}");
    let err = AppError::from(e);
    assert_eq!(err.status(), 409);
    assert!(!err.to_string().contains("UNIQUE") && !err.to_string().contains("duplicate key"));

    // The twin: a missing team is a foreign-key failure, not a duplicate — and a write that does
    // not say what it means stays a 500, without the database's words.
    let e = row(maria, 999_999)
        .insert(&app.state.db)
        .await
        .expect_err("no such team");
    assert!(!backend::repo::is_duplicate(&e), "{e}");
    assert!(backend::repo::is_missing_reference(&e), "{e}");
    let err = AppError::from(e);
    assert_eq!(err.status(), 500);
    assert!(!err.to_string().to_lowercase().contains("foreign"), "{err}");
}

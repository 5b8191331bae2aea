//! Paginated lists over a generated data set (`server::scale`, small): walking the pages shows
//! every visible row exactly once, in the list's order, across ties and missing due dates; a
//! page link that is broken is a field error, not a 500; the page renders its pager links.

use crate::support::{
    Backend, Call, Session, TestApp, app_error, every_work_order, session_cookie,
};
use app::api::vehicles::ListVehicles;
use app::api::work_orders::ListWorkOrders;
use app::model::{PAGE_SIZE, VehicleList};
use backend::entity::{vehicle, work_order};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use server::scale::{self, Scale};

const PASSWORD: &str = "scale-test-password";

struct Quiet;
impl scale::Progress for Quiet {
    fn stage(&self, _: &'static str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// The app with a small generated organisation; returns it and the organisation's id.
async fn spawn_with_scale_data(backend: Backend) -> (TestApp, i32) {
    spawn_with(
        backend,
        Scale {
            users: 40,
            teams: 20,
            vehicles: 2 * PAGE_SIZE as u32 + 17,
            work_orders: 5 * PAGE_SIZE as u32 + 11,
        },
    )
    .await
}

async fn spawn_with(backend: Backend, size: Scale) -> (TestApp, i32) {
    let app = TestApp::spawn(backend).await;
    let hash = backend::password::hash(PASSWORD.to_owned()).await.unwrap();
    let org = scale::generate(&app.state.db, size, &hash, &Quiet)
        .await
        .unwrap();
    (app, org)
}

async fn sign_in(app: &TestApp, n: u32) -> Session {
    let res = app.login(&scale::email(n), PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    session_cookie(&res).unwrap()
}

async fn all_vehicle_pages(app: &TestApp, who: &Session) -> Vec<VehicleList> {
    let mut pages: Vec<VehicleList> = Vec::new();
    loop {
        let after = pages.last().and_then(|p| p.next.clone());
        let page = app
            .call(who, ListVehicles { after })
            .await
            .expect("a page of vehicles");
        let last = page.next.is_none();
        pages.push(page);
        if last {
            return pages;
        }
        assert!(pages.len() < 100, "pages never end");
    }
}

async fn vehicle_pages_cover_every_row_once_in_order(backend: Backend) {
    let (app, org) = spawn_with_scale_data(backend).await;
    // Ties on the sort key: three more vehicles with the name of an existing one.
    let twin = vehicle::Entity::find()
        .filter(vehicle::Column::OrganisationId.eq(org))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    for i in 0..3 {
        let mut copy: vehicle::ActiveModel = twin.clone().into();
        copy.id = sea_orm::ActiveValue::NotSet;
        copy.vin = sea_orm::ActiveValue::Set(format!("7TW{i:014}"));
        sea_orm::ActiveModelTrait::insert(copy, &app.state.db)
            .await
            .unwrap();
    }
    let root_member = sign_in(&app, 1).await;
    let pages = all_vehicle_pages(&app, &root_member).await;
    let seen: Vec<(String, i32)> = pages
        .iter()
        .flat_map(|p| p.rows.iter().map(|r| (r.name.clone(), r.id.0)))
        .collect();
    let mut expected: Vec<(String, i32)> = vehicle::Entity::find()
        .filter(vehicle::Column::OrganisationId.eq(org))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.name, v.id))
        .collect();
    expected.sort();
    assert_eq!(seen, expected, "every vehicle once, by (name, id)");
    assert_eq!(pages.len(), expected.len().div_ceil(PAGE_SIZE as usize));
    assert!(
        pages[..pages.len() - 1]
            .iter()
            .all(|p| p.rows.len() == PAGE_SIZE as usize)
    );

    // Someone in one team sees that team's vehicles only, paginated the same way.
    let member = 7;
    let team_name = format!("Team {:04}", member % 20);
    let member_cookie = sign_in(&app, member).await;
    let theirs: Vec<String> = all_vehicle_pages(&app, &member_cookie)
        .await
        .into_iter()
        .flat_map(|p| p.rows.into_iter().map(|r| r.team))
        .collect();
    assert!(
        !theirs.is_empty() && theirs.iter().all(|t| *t == team_name),
        "{theirs:?}"
    );

    // The page renders its pager: a next link, and on a later page a link back to the first.
    let html = app
        .get("/vehicles", &root_member)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("rel=\"next\"") && html.contains("/vehicles?after="),
        "no pager"
    );
    let next = pages[0].next.clone().unwrap();
    let later = app
        .get(&server_path("/vehicles", &next), &root_member)
        .await
        .text()
        .await
        .unwrap();
    assert!(later.contains("First page") && later.contains(&pages[1].rows[0].name));
}

fn server_path(path: &str, after: &str) -> String {
    app::routes::with_query(path, [("after", after)])
}

async fn work_order_pages_follow_due_dates_with_blanks_last(backend: Backend) {
    let (app, org) = spawn_with_scale_data(backend).await;
    let cookie = sign_in(&app, 1).await;
    let mut seen: Vec<i32> = Vec::new();
    let mut after = None;
    loop {
        let open = ListWorkOrders {
            status: Some("open".into()),
            after,
            ..every_work_order()
        };
        let page = app
            .call(&cookie, open)
            .await
            .expect("a page of work orders");
        seen.extend(page.rows.iter().map(|r| r.id.0));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<work_order::Model> = work_order::Entity::find()
        .filter(work_order::Column::OrganisationId.eq(org))
        .filter(work_order::Column::Status.eq("open"))
        .all(&app.state.db)
        .await
        .unwrap();
    expected.sort_by_key(|w| (w.due_on.is_none(), w.due_on, w.id));
    let expected: Vec<i32> = expected.into_iter().map(|w| w.id).collect();
    assert!(expected.len() > PAGE_SIZE as usize, "more than one page");
    assert_eq!(
        seen, expected,
        "every open work order once, by due date then id"
    );
}

async fn broken_page_links_are_field_errors(backend: Backend) {
    let (app, _) = spawn_with_scale_data(backend).await;
    let cookie = sign_in(&app, 1).await;
    let vehicles = |after: &str| {
        Call::of(&ListVehicles {
            after: Some(after.into()),
        })
    };
    let work_orders = |after: &str| {
        Call::of(&ListWorkOrders {
            after: Some(after.into()),
            ..every_work_order()
        })
    };
    for call in [
        vehicles("not-a-cursor"),
        work_orders("12:not-a-date"),
        work_orders("-3"),
    ] {
        let res = app.send(&cookie, &call).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{call:?}");
        let error = app_error(res).await;
        assert_eq!(
            error.field_message("after"),
            Some(app::model::Cursor::BROKEN)
        );
    }
    // The twin: a good cursor is accepted.
    let good = ListWorkOrders {
        after: Some("12:2026-01-01".into()),
        ..every_work_order()
    };
    let res = app.call_raw(&cookie, good).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn the_assignee_filter_asks_for_a_team_when_too_many_people(backend: Backend) {
    let (app, _) = spawn_with(
        backend,
        Scale {
            users: 230,
            teams: 4,
            vehicles: 5,
            work_orders: 10,
        },
    )
    .await;
    let cookie = sign_in(&app, 1).await;
    let list = |team: Option<i32>| {
        let (app, cookie) = (&app, &cookie);
        async move {
            let filter = ListWorkOrders {
                team,
                ..every_work_order()
            };
            app.call(cookie, filter).await.expect("the work orders")
        }
    };
    // Everyone in the organisation: more than a list should hold.
    let all = list(None).await;
    assert!(all.assignees_too_many && all.assignees.is_empty());
    // One team: its people, by name.
    let team = all.teams.iter().find(|t| t.name == "Team 0001").unwrap();
    let one = list(Some(team.id)).await;
    assert!(!one.assignees_too_many);
    let names: Vec<&str> = one.assignees.iter().map(|u| u.name.as_str()).collect();
    assert!(
        names.len() > 10 && names.windows(2).all(|w| w[0] <= w[1]),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("Scale User")));
    // The page says why the filter is off.
    let html = app.get("/work-orders", &cookie).await.text().await.unwrap();
    assert!(html.contains("Choose a team first to filter by assignee."));
}

on_both_databases!(
    the_assignee_filter_asks_for_a_team_when_too_many_people,
    vehicle_pages_cover_every_row_once_in_order,
    work_order_pages_follow_due_dates_with_blanks_last,
    broken_page_links_are_field_errors,
);

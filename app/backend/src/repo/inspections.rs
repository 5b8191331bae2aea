//! Inspections of a vehicle.

use crate::entity::inspection;
use domain::ids::VehicleId;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// A vehicle's inspections, newest first.
pub async fn of_vehicle(
    db: &impl ConnectionTrait,
    org: i32,
    vehicle: VehicleId,
) -> Result<Vec<inspection::Model>, DbErr> {
    inspection::Entity::find()
        .filter(inspection::Column::VehicleId.eq(vehicle.0))
        .filter(inspection::Column::OrganisationId.eq(org))
        .order_by_desc(inspection::Column::SubmittedAt)
        .all(db)
        .await
}

/// A submitted checklist, on a vehicle.
#[derive(Clone, Debug)]
pub struct NewInspection {
    pub organisation_id: i32,
    pub team_id: i32,
    pub vehicle_id: i32,
    pub inspector_id: i32,
    pub passed: bool,
    /// The checklist as JSON.
    pub items: String,
}

/// Inserts an inspection (inside the caller's transaction).
pub async fn insert(db: &impl ConnectionTrait, new: NewInspection) -> Result<(), DbErr> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    inspection::ActiveModel {
        organisation_id: Set(new.organisation_id),
        team_id: Set(new.team_id),
        vehicle_id: Set(new.vehicle_id),
        inspector_id: Set(Some(new.inspector_id)),
        result: Set(if new.passed { "pass" } else { "fail" }.to_owned()),
        items: Set(new.items),
        submitted_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

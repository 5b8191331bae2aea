//! Inspections of a vehicle.

use crate::entity::inspection;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// A vehicle's inspections, newest first.
pub async fn of_vehicle(
    db: &impl ConnectionTrait,
    org: i32,
    vehicle: i32,
) -> Result<Vec<inspection::Model>, DbErr> {
    inspection::Entity::find()
        .filter(inspection::Column::VehicleId.eq(vehicle))
        .filter(inspection::Column::OrganisationId.eq(org))
        .order_by_desc(inspection::Column::SubmittedAt)
        .all(db)
        .await
}

//! Inspections: submit a checklist for a vehicle; a failed item can open a work order in the same
//! transaction.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::Permission as Needs;
use crate::api::policy::{Declared, Policy, write};
use crate::error::AppError;
use crate::model::ChecklistItem;
use domain::authz::Permission;
use domain::ids::{VehicleId, WorkOrderId};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The checklist, validated: exactly the standard items, notes within bounds, a note on every
/// failed item.
pub fn validate_checklist(items: &[ChecklistItem]) -> Result<Vec<ChecklistItem>, AppError> {
    use crate::error::FieldError;
    use crate::model::CHECKLIST;
    let names: Vec<&str> = items.iter().map(|i| i.item.as_str()).collect();
    if names != CHECKLIST {
        return Err(AppError::invalid(
            "items",
            "Answer every item of the checklist once.",
        ));
    }
    let mut fields = Vec::new();
    let cleaned = items
        .iter()
        .map(|i| {
            let note = i.note.trim().to_owned();
            if note.chars().count() > 500 {
                fields.push(FieldError {
                    field: format!("note-{}", i.item),
                    message: "Use at most 500 characters.".into(),
                });
            } else if !i.ok && note.is_empty() {
                fields.push(FieldError {
                    field: format!("note-{}", i.item),
                    message: "Say what is wrong.".into(),
                });
            }
            ChecklistItem {
                item: i.item.clone(),
                ok: i.ok,
                note,
            }
        })
        .collect();
    if fields.is_empty() {
        Ok(cleaned)
    } else {
        Err(AppError::Invalid { fields })
    }
}

impl Declared for SubmitInspection {
    const POLICY: Policy = write::<Self>(Needs(Permission::InspectionsSubmit));
}

/// Submits an inspection (needs `inspections.submit` on the vehicle's team). With
/// `open_work_order`, a failure also opens a work order (needs `work_orders.create` too); both
/// rows are written in one transaction or not at all.
#[server(endpoint = "inspections/submit", input = Json)]
pub async fn submit_inspection(
    vehicle: VehicleId,
    items: Vec<ChecklistItem>,
    open_work_order: bool,
) -> Result<Option<WorkOrderId>, AppError> {
    use crate::api::guard::{Guard, Written};
    use backend::repo;
    use domain::authz::Permission;

    let items = validate_checklist(&items)?;
    let g = Guard::enter::<SubmitInspection>().await?;
    let veh = repo::vehicles::load(&g.state().db, g.principal().organisation_id, vehicle).await?;
    let resource = Resource::Vehicle(vehicle);
    g.authorize(veh.team_id, resource).await?;
    let failed: Vec<&ChecklistItem> = items.iter().filter(|i| !i.ok).collect();
    let open = open_work_order && !failed.is_empty();
    if open {
        g.require(Permission::WorkOrdersCreate, veh.team_id, resource)
            .await?;
    }
    let checklist = repo::inspections::NewInspection {
        organisation_id: veh.organisation_id,
        team_id: veh.team_id,
        vehicle_id: veh.id,
        inspector_id: g.principal().user_id,
        passed: failed.is_empty(),
        items: serde_json::to_string(&items).map_err(|_| AppError::Internal)?,
    };
    let work_order = open.then(|| {
        let title = format!(
            "Inspection failed: {}",
            failed
                .iter()
                .map(|i| i.item.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let description = failed
            .iter()
            .map(|i| format!("{}: {}", i.item, i.note))
            .collect::<Vec<_>>()
            .join("\n");
        let by = g.principal().user_id;
        repo::work_orders::NewWorkOrder::open_on(&veh, by, title, description, "high".into(), None)
    });
    let details = backend::audit::Details::new().with(
        backend::audit::Field::Status,
        if failed.is_empty() {
            "passed"
        } else {
            "failed"
        },
    );
    // Both rows in one transaction, or neither.
    g.write_independent(move |txn| {
        let (checklist, work_order, details) =
            (checklist.clone(), work_order.clone(), details.clone());
        Box::pin(async move {
            repo::inspections::insert(txn, checklist).await?;
            let opened = match work_order {
                Some(new) => Some(repo::work_orders::insert(txn, new).await?),
                None => None,
            };
            Ok(Written::new(opened, resource).with(details))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CHECKLIST;

    fn all_ok() -> Vec<ChecklistItem> {
        CHECKLIST
            .iter()
            .map(|i| ChecklistItem {
                item: (*i).into(),
                ok: true,
                note: String::new(),
            })
            .collect()
    }

    #[test]
    fn a_full_passing_checklist_is_valid() {
        assert_eq!(
            validate_checklist(&all_ok()).unwrap().len(),
            CHECKLIST.len()
        );
    }

    #[test]
    fn missing_items_and_silent_failures_are_refused() {
        assert!(validate_checklist(&all_ok()[1..]).is_err());
        let mut items = all_ok();
        items[0].ok = false;
        assert_eq!(
            validate_checklist(&items)
                .unwrap_err()
                .field_message("note-Brakes"),
            Some("Say what is wrong.")
        );
        items[0].note = "  worn  ".into();
        assert_eq!(validate_checklist(&items).unwrap()[0].note, "worn");
    }
}

//! The states of the fleet's resources.

crate::keyed! {
    /// A vehicle's lifecycle state.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum VehicleStatus {
        Active = ("active", "Active"),
        InShop = ("in_shop", "In shop"),
        Retired = ("retired", "Retired"),
    }
}

crate::keyed! {
    /// A work order's state.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum WorkOrderStatus {
        Open = ("open", "Open"),
        InProgress = ("in_progress", "In progress"),
        OnHold = ("on_hold", "On hold"),
        Completed = ("completed", "Completed"),
        Cancelled = ("cancelled", "Cancelled"),
    }
}

impl WorkOrderStatus {
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

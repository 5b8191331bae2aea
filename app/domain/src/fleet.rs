//! The states of the fleet's resources.

use serde::{Deserialize, Serialize};

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

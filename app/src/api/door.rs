//! The door: every declared policy, looked up by path for each `/api/` request before its
//! arguments are parsed (deny by default: a path without a declaration is refused). Nothing
//! below imports this module, so the table can name every server function without a cycle.

use super::{
    account, admin, audit_log, auth, dashboard, impersonation, inspections, invitations, org,
    organisations, password_reset, people, support_access, team_tree, teams, troubleshoot,
    vehicles, webhooks, work_orders,
};
use crate::api::policy::{Declared, Policy};

/// Every server function's declaration. A test enumerates the registered server functions and
/// fails on one missing here (or an entry that is no server function).
pub const POLICIES: &[Policy] = &[
    auth::Login::POLICY,
    auth::Logout::POLICY,
    impersonation::ExitImpersonation::POLICY,
    account::ChangePassword::POLICY,
    impersonation::StartImpersonation::POLICY,
    admin::AdminUsers::POLICY,
    admin::AdminOrgs::POLICY,
    audit_log::AuditList::POLICY,
    org::OrgSettings::POLICY,
    org::SetConsent::POLICY,
    auth::CurrentUser::POLICY,
    teams::GetMyAccess::POLICY,
    vehicles::ListVehicles::POLICY,
    vehicles::GetVehicle::POLICY,
    vehicles::CreateVehicle::POLICY,
    vehicles::EditVehicle::POLICY,
    vehicles::RetireVehicle::POLICY,
    work_orders::CreateWorkOrder::POLICY,
    inspections::SubmitInspection::POLICY,
    dashboard::GetDashboard::POLICY,
    work_orders::ListWorkOrders::POLICY,
    work_orders::GetWorkOrder::POLICY,
    work_orders::SetWorkOrderStatus::POLICY,
    work_orders::CompleteWorkOrder::POLICY,
    work_orders::AssignWorkOrder::POLICY,
    teams::PermissionMatrix::POLICY,
    teams::TeamMembers::POLICY,
    teams::AddMember::POLICY,
    teams::RemoveMember::POLICY,
    teams::GrantPermission::POLICY,
    teams::RevokePermission::POLICY,
    organisations::CreateOrganisation::POLICY,
    organisations::SuspendOrganisation::POLICY,
    organisations::ReactivateOrganisation::POLICY,
    invitations::InviteMember::POLICY,
    invitations::ResendInvitation::POLICY,
    invitations::RevokeInvitation::POLICY,
    invitations::OpenInvitation::POLICY,
    invitations::AcceptInvitation::POLICY,
    password_reset::RequestPasswordReset::POLICY,
    password_reset::CheckResetLink::POLICY,
    password_reset::ResetPassword::POLICY,
    team_tree::CreateTeam::POLICY,
    team_tree::RenameTeam::POLICY,
    team_tree::MoveTeam::POLICY,
    team_tree::DeleteTeam::POLICY,
    people::ListPeople::POLICY,
    people::DeactivateUser::POLICY,
    people::ReactivateUser::POLICY,
    people::ChangeRole::POLICY,
    support_access::GetSupportAccess::POLICY,
    support_access::GrantSupportAccess::POLICY,
    support_access::RevokeSupportGrant::POLICY,
    support_access::SupportNotices::POLICY,
    support_access::DismissNotice::POLICY,
    support_access::GetProtections::POLICY,
    support_access::SetProtection::POLICY,
    support_access::RequestSupportAccess::POLICY,
    support_access::SupportRequests::POLICY,
    support_access::AnswerSupportRequest::POLICY,
    webhooks::GetWebhook::POLICY,
    webhooks::SetWebhook::POLICY,
    webhooks::TestWebhook::POLICY,
    troubleshoot::Troubleshoot::POLICY,
    troubleshoot::WhatCan::POLICY,
    troubleshoot::Compare::POLICY,
    troubleshoot::ApplyFix::POLICY,
];

/// The declared policy of the server function at `path`.
pub fn lookup(path: &str) -> Option<&'static Policy> {
    POLICIES.iter().find(|p| p.path == path)
}

/// The door of every server function, run by the server's middleware (see
/// [`crate::api::guard::admit`]): the declaration for `path`, or a refusal.
#[cfg(feature = "ssr")]
pub async fn admit(
    state: &backend::state::AppState,
    path: &str,
    auth: Option<&backend::principal::Authentication>,
) -> Result<(), crate::error::AppError> {
    let Some(policy) = lookup(path) else {
        return Err(crate::api::guard::not_available(path));
    };
    crate::api::guard::admit(state, policy, auth).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::policy::{Caller, Kind, Refusal, Requirement, admit};
    use leptos::server_fn::ServerFn;

    #[test]
    fn paths_are_unique_and_under_api() {
        let mut paths: Vec<_> = POLICIES.iter().map(|p| p.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), POLICIES.len());
        assert!(POLICIES.iter().all(|p| p.path.starts_with("/api/")));
    }

    const CALLERS: [Caller; 4] = [
        Caller::Anonymous,
        Caller::Own,
        Caller::Impersonating(domain::impersonation::Mode::View),
        Caller::Impersonating(domain::impersonation::Mode::Act),
    ];

    /// The admission rule against its definition, for every declared policy and every caller.
    #[test]
    fn admission_follows_the_declaration_for_every_function_and_caller() {
        use domain::impersonation::Mode;
        for policy in POLICIES {
            for caller in CALLERS {
                let expected = match (caller, policy.requirement, policy.kind) {
                    (Caller::Anonymous, Requirement::Public, _) => Ok(()),
                    (Caller::Anonymous, _, _) => Err(Refusal::NotSignedIn),
                    (Caller::Own, _, _) => Ok(()),
                    (Caller::Impersonating(_), _, Kind::OwnNameOnly) => {
                        Err(Refusal::NotInSomeoneElsesName)
                    }
                    (Caller::Impersonating(Mode::View), _, Kind::Write) => Err(Refusal::ReadOnly),
                    (Caller::Impersonating(_), _, _) => Ok(()),
                };
                assert_eq!(
                    admit(policy, caller),
                    expected,
                    "{} as {caller:?}",
                    policy.path
                );
            }
        }
    }

    #[test]
    fn signing_in_is_never_done_in_someone_elses_name() {
        let login = lookup(auth::Login::PATH).expect("declared");
        assert_eq!(admit(login, Caller::Anonymous), Ok(()));
        for mode in [
            domain::impersonation::Mode::View,
            domain::impersonation::Mode::Act,
        ] {
            assert_eq!(
                admit(login, Caller::Impersonating(mode)),
                Err(Refusal::NotInSomeoneElsesName)
            );
        }
    }

    #[test]
    fn unknown_paths_have_no_policy() {
        assert!(lookup("/api/drop_everything").is_none());
        assert_eq!(
            lookup("/api/login").map(|p| p.requirement),
            Some(Requirement::Public)
        );
        assert_eq!(
            lookup(auth::Login::PATH).map(|p| p.path),
            Some("/api/login")
        );
    }
}

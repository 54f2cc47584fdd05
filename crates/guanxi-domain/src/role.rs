//! Roles and what they may do. One table here decides every handler's permission check, so a
//! new role or permission is a change in one place.

use crate::vocabulary;

vocabulary!(
    /// A user's role. One role per user keeps permission reasoning simple for small businesses.
    Role {
        Admin => "admin",
        Manager => "manager",
        Sales => "sales",
        Service => "service",
        Marketing => "marketing",
        Viewer => "viewer",
    }
);

/// Things a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read customers within the user's record scope.
    ReadCustomers,
    /// Create and edit customers, contact points and relations within scope.
    WriteCustomers,
    /// Delete (soft) customers.
    DeleteCustomers,
    /// Give a customer to another owner.
    ReassignCustomers,
    /// See ID numbers unmasked (each such read is audited).
    ViewSensitive,
    /// Record orders.
    WriteOrders,
    /// Manage users, teams and tokens of others.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
    /// Export data.
    Export,
    /// Start analytics jobs (score refresh) for the whole book.
    RunAnalytics,
    /// Create, change and delete saved segments (marketing's daily tool).
    ManageSegments,
    /// Answer a customer's data-subject request: hand over everything held about them, erase
    /// them. Admins only: the file is complete and unmasked, and an erasure cannot be undone.
    DataSubjectRights,
    /// See the background job queue and retry or cancel its jobs (operations, admins only).
    ManageJobs,
    /// Read service tickets within the ticket scope (an agent's queues, a rep's customers).
    ReadTickets,
    /// Open, answer, take and move tickets; set one's own presence as an agent.
    WorkTickets,
    /// Run the service desk: queues and their members, agents' capacity and skills, assigning
    /// tickets to others, categories, SLA policies and business calendars.
    ManageServiceDesk,
    /// Set up customer care: the care plans that turn birthdays, anniversaries and festivals
    /// into tasks for the owners (managers and marketing).
    ManageCare,
    /// Correct a member's points by hand, with a reason (managers and admins; audited).
    AdjustPoints,
    /// Set up the membership programme: tiers, earning rates, promotions (managers and
    /// marketing).
    ManageLoyalty,
    /// Set up the rules that act on customers by themselves (tasks, tags, points) when
    /// something happens, and read their firing log (managers and marketing).
    ManageRules,
    /// Build, send and measure marketing campaigns over e-mail and SMS, and read their
    /// delivery and response log (managers and marketing).
    ManageCampaigns,
    /// Read sales opportunities within the record scope, the kanban, the forecast and the
    /// funnel.
    ReadOpportunities,
    /// Create opportunities for one's customers and move them through the pipeline (sales,
    /// managers).
    WorkOpportunities,
    /// Define pipelines, their stages and probabilities, and the lost reasons (managers).
    ManagePipelines,
    /// Import customers from files in the browser (the import wizard) and undo one's own
    /// imports within 7 days: a file can touch thousands of records at once, so it is the
    /// managers' and admins', not every rep's.
    ImportData,
    /// Approve or reject another user's export of more customers than the shop's threshold
    /// (managers and admins); nobody approves their own.
    ApproveExports,
    /// Define custom fields on customers, companies, opportunities and tickets, and switch on
    /// the shipped presets (admins: a field changes every form, list and import).
    ManageCustomFields,
}

/// Which customers a user sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordScope {
    /// Every customer.
    All,
    /// Customers owned by the user or by a member of the user's team.
    OwnAndTeam,
}

impl Permission {
    /// Every permission, for listings and the allow-list tests. The exhaustive `match` in the
    /// tests fails to compile when a variant is added without being listed here.
    pub const ALL: [Permission; 27] = [
        Permission::ReadCustomers,
        Permission::WriteCustomers,
        Permission::DeleteCustomers,
        Permission::ReassignCustomers,
        Permission::ViewSensitive,
        Permission::WriteOrders,
        Permission::ManageUsers,
        Permission::ReadAudit,
        Permission::Export,
        Permission::RunAnalytics,
        Permission::ManageSegments,
        Permission::DataSubjectRights,
        Permission::ManageJobs,
        Permission::ReadTickets,
        Permission::WorkTickets,
        Permission::ManageServiceDesk,
        Permission::ManageCare,
        Permission::AdjustPoints,
        Permission::ManageLoyalty,
        Permission::ManageRules,
        Permission::ManageCampaigns,
        Permission::ReadOpportunities,
        Permission::WorkOpportunities,
        Permission::ManagePipelines,
        Permission::ImportData,
        Permission::ApproveExports,
        Permission::ManageCustomFields,
    ];
}

impl Role {
    /// The allow-list: a role holds exactly the permissions listed for it, so a permission
    /// added later is nobody's until it is written into a role's line here.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => &Permission::ALL,
            Role::Manager => &[
                ReadCustomers,
                WriteCustomers,
                DeleteCustomers,
                ReassignCustomers,
                ViewSensitive,
                WriteOrders,
                ReadAudit,
                Export,
                RunAnalytics,
                ManageSegments,
                ReadTickets,
                WorkTickets,
                ManageServiceDesk,
                ManageCare,
                AdjustPoints,
                ManageLoyalty,
                ManageRules,
                ManageCampaigns,
                ReadOpportunities,
                WorkOpportunities,
                ManagePipelines,
                ImportData,
                ApproveExports,
            ],
            Role::Sales => &[
                ReadCustomers,
                WriteCustomers,
                WriteOrders,
                ReadTickets,
                WorkTickets,
                ReadOpportunities,
                WorkOpportunities,
            ],
            Role::Service => &[
                ReadCustomers,
                WriteCustomers,
                WriteOrders,
                ReadTickets,
                WorkTickets,
            ],
            Role::Marketing => &[
                ReadCustomers,
                Export,
                ManageSegments,
                ManageCare,
                ManageLoyalty,
                ManageRules,
                ManageCampaigns,
                ReadOpportunities,
            ],
            Role::Viewer => &[ReadCustomers, ReadTickets, ReadOpportunities],
        }
    }

    /// Whether the role's allow-list holds `p`.
    pub fn can(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }

    /// Default record scope: sales reps see their own and their team's customers; service and
    /// marketing work across the whole base (a caller may be anyone's customer).
    pub fn default_scope(self) -> RecordScope {
        match self {
            Role::Sales => RecordScope::OwnAndTeam,
            _ => RecordScope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_and_manager_see_sensitive() {
        let allowed: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.can(Permission::ViewSensitive))
            .collect();
        assert_eq!(allowed, [Role::Admin, Role::Manager]);
    }

    /// Every variant is in [`Permission::ALL`]: adding one without listing it stops here.
    #[test]
    fn the_permission_list_is_complete() {
        fn index(p: Permission) -> usize {
            use Permission::*;
            match p {
                ReadCustomers => 0,
                WriteCustomers => 1,
                DeleteCustomers => 2,
                ReassignCustomers => 3,
                ViewSensitive => 4,
                WriteOrders => 5,
                ManageUsers => 6,
                ReadAudit => 7,
                Export => 8,
                RunAnalytics => 9,
                ManageSegments => 10,
                DataSubjectRights => 11,
                ManageJobs => 12,
                ReadTickets => 13,
                WorkTickets => 14,
                ManageServiceDesk => 15,
                ManageCare => 16,
                AdjustPoints => 17,
                ManageLoyalty => 18,
                ManageRules => 19,
                ManageCampaigns => 20,
                ReadOpportunities => 21,
                WorkOpportunities => 22,
                ManagePipelines => 23,
                ImportData => 24,
                ApproveExports => 25,
                ManageCustomFields => 26,
            }
        }
        for (i, p) in Permission::ALL.iter().enumerate() {
            assert_eq!(index(*p), i, "{p:?}");
        }
    }

    /// Regression: managers used to get every permission but two, so one added later (the job
    /// queue's) was theirs by default. Now they hold exactly their list.
    #[test]
    fn a_manager_lacks_a_permission_added_later() {
        assert!(!Role::Manager.can(Permission::ManageJobs));
        assert!(!Role::Manager.can(Permission::ManageUsers));
        assert!(!Role::Manager.can(Permission::DataSubjectRights));
        let unlisted: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(|p| !Role::Manager.permissions().contains(p))
            .collect();
        assert_eq!(
            unlisted,
            [
                Permission::ManageUsers,
                Permission::DataSubjectRights,
                Permission::ManageJobs,
                Permission::ManageCustomFields
            ]
        );
        assert!(Permission::ALL.iter().all(|p| Role::Admin.can(*p)));
    }

    #[test]
    fn viewer_is_read_only() {
        assert!(Role::Viewer.can(Permission::ReadCustomers));
        assert!(!Role::Viewer.can(Permission::WriteCustomers));
    }
}

/// The user on whose behalf something happens: carried from authentication down to the store,
/// which uses it to scope queries and to sign audit entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User id (0 for the system itself, e.g. the demo generator).
    pub id: i64,
    /// Username at the time, kept in the audit log even if the user is renamed later.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team_id: Option<i64>,
    /// Effective record scope (role default, widened by an explicit grant).
    pub scope: RecordScope,
}

impl Actor {
    /// The system actor for CLI jobs: admin rights, signs the audit log as `system`.
    pub fn system() -> Self {
        Self {
            id: 0,
            name: "system".into(),
            role: Role::Admin,
            team_id: None,
            scope: RecordScope::All,
        }
    }

    /// The actor for a signed-in user: the role's default record scope, widened to every
    /// customer by the user's `see_all_customers` grant. One rule for sessions, tokens, the
    /// worker and the demo, so a user acts with the same rights whichever way they came in.
    pub fn for_user(user: &crate::records::User) -> Self {
        Self {
            id: user.id,
            name: user.username.clone(),
            role: user.role,
            team_id: user.team_id,
            scope: if user.see_all_customers {
                RecordScope::All
            } else {
                user.role.default_scope()
            },
        }
    }

    /// Whether this actor holds a permission.
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// The id to record as creator / collector (None for the system).
    pub fn user_id(&self) -> Option<i64> {
        (self.id > 0).then_some(self.id)
    }
}

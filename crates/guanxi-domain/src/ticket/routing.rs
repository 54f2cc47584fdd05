//! Who gets a ticket. Routing only ever hands work to an agent who is available and under
//! capacity and holds every skill the queue asks for; when nobody qualifies the ticket waits in
//! the queue (Chatwoot #13050: tickets went to offline and full agents because it had no queue).

use chrono::{DateTime, Utc};

use crate::vocabulary;

vocabulary!(
    /// An agent's presence, set by the agent.
    AgentStatus { Available => "available", Away => "away", Offline => "offline" }
);

vocabulary!(
    /// How a queue hands out its tickets.
    RoutingMode {
        /// Next in turn: the eligible agent assigned longest ago.
        RoundRobin => "round_robin",
        /// The eligible agent with the smallest share of their capacity in use.
        LeastLoaded => "least_loaded",
        /// Nobody is assigned automatically; agents take the next ticket themselves.
        Manual => "manual",
    }
);

/// One agent as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLoad {
    /// User id.
    pub user_id: i64,
    /// Presence.
    pub status: AgentStatus,
    /// Most open tickets they carry at once.
    pub capacity: i64,
    /// Open tickets they carry now.
    pub open: i64,
    /// Skills (language, product line, `vip` …).
    pub skills: Vec<String>,
    /// When they were last given a ticket.
    pub last_assigned_at: Option<DateTime<Utc>>,
}

impl AgentLoad {
    /// Whether the agent may be given one more ticket needing `skills`.
    pub fn can_take(&self, skills: &[String]) -> bool {
        self.status == AgentStatus::Available
            && self.open < self.capacity
            && skills.iter().all(|s| self.skills.contains(s))
    }
}

/// The agent a new ticket goes to, or `None`: it waits in the queue.
pub fn pick(agents: &[AgentLoad], skills: &[String], mode: RoutingMode) -> Option<i64> {
    let eligible = agents.iter().filter(|a| a.can_take(skills));
    let chosen = match mode {
        RoutingMode::Manual => None,
        RoutingMode::RoundRobin => eligible.min_by_key(|a| (a.last_assigned_at, a.user_id)),
        RoutingMode::LeastLoaded => eligible.min_by(|a, b| {
            // open/capacity compared without division: a.open × b.cap vs b.open × a.cap.
            (a.open * b.capacity)
                .cmp(&(b.open * a.capacity))
                .then(a.last_assigned_at.cmp(&b.last_assigned_at))
                .then(a.user_id.cmp(&b.user_id))
        }),
    };
    chosen.map(|a| a.user_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn agent(
        id: i64,
        status: AgentStatus,
        open: i64,
        skills: &[&str],
        mins_ago: Option<i64>,
    ) -> AgentLoad {
        AgentLoad {
            user_id: id,
            status,
            capacity: 3,
            open,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            last_assigned_at: mins_ago.map(|m| Utc::now() - Duration::minutes(m)),
        }
    }

    #[test]
    fn never_offline_away_full_or_unskilled() {
        use AgentStatus::*;
        let agents = [
            agent(1, Offline, 0, &["zh", "vip"], None),
            agent(2, Away, 0, &["zh", "vip"], None),
            agent(3, Available, 3, &["zh", "vip"], None),
            agent(4, Available, 0, &["zh"], None),
        ];
        let vip = vec!["vip".to_string()];
        for mode in [
            RoutingMode::RoundRobin,
            RoutingMode::LeastLoaded,
            RoutingMode::Manual,
        ] {
            assert_eq!(pick(&agents, &vip, mode), None, "{mode}");
        }
        assert_eq!(pick(&agents, &[], RoutingMode::RoundRobin), Some(4));
    }

    #[test]
    fn round_robin_takes_turns_least_loaded_balances() {
        use AgentStatus::Available;
        let agents = [
            agent(1, Available, 0, &[], Some(5)),
            agent(2, Available, 2, &[], Some(30)),
            agent(3, Available, 1, &[], None),
        ];
        assert_eq!(pick(&agents, &[], RoutingMode::RoundRobin), Some(3));
        assert_eq!(pick(&agents, &[], RoutingMode::LeastLoaded), Some(1));
        let mut big = agent(4, Available, 2, &[], Some(1));
        big.capacity = 10;
        let two = [agents[0].clone(), big];
        assert_eq!(pick(&two[..1], &[], RoutingMode::LeastLoaded), Some(1));
        // 2/10 is less loaded than 1/3.
        let mut one = agents[2].clone();
        one.open = 1;
        assert_eq!(
            pick(&[one, two[1].clone()], &[], RoutingMode::LeastLoaded),
            Some(4)
        );
    }
}

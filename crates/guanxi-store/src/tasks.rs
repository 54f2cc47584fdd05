//! The to-do list across customers: whose tasks (mine, my team's, one colleague's, anyone's
//! the actor may see), open or done, due by when, searched by title or customer name. Open
//! tasks come overdue first because they sort by due time; done ones most recent first. The
//! total and the overdue count come from the same conditions as the rows, so a page never
//! shows "20" when there are 137.

use guanxi_domain::role::Actor;

use crate::db::Store;
use crate::error::Result;
use crate::sql::{like_pattern, SqlBuilder};
use crate::timeline::{OpenTask, OpenTaskRow, TASK_COLUMNS};

/// Whose tasks a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskWho {
    /// Assigned to this user.
    User(i64),
    /// Assigned to anyone in this team.
    Team(i64),
    /// Any assignee (still only on customers the actor may see).
    Anyone,
}

/// Which tasks by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskStatus {
    /// Not done yet.
    #[default]
    Open,
    /// Done.
    Done,
    /// Both.
    All,
}

/// The conditions of a task list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFilter {
    /// Whose tasks.
    pub who: TaskWho,
    /// Open, done or both.
    pub status: TaskStatus,
    /// Only tasks due before this instant (ms since the epoch): "overdue" is now, "today" the
    /// end of the shop's day.
    pub due_before: Option<i64>,
    /// Words in the title or the customer's name.
    pub q: Option<String>,
    /// Rows per page (1–500).
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

impl TaskFilter {
    /// Open tasks of someone, first page.
    pub fn open_for(who: TaskWho) -> Self {
        Self {
            who,
            status: TaskStatus::Open,
            due_before: None,
            q: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of tasks with the counts behind the whole list.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskList {
    /// This page's rows.
    pub items: Vec<OpenTask>,
    /// How many tasks match the filter in all.
    pub total: i64,
    /// How many of them are open and overdue at `now`.
    pub overdue: i64,
}

/// Appends the filter's conditions (after a `WHERE` that already holds one condition).
fn push_filter(q: &mut SqlBuilder, actor: &Actor, f: &TaskFilter) {
    match f.who {
        TaskWho::User(id) => {
            q.push(" AND t.assignee_id = ").int(id);
        }
        TaskWho::Team(team) => {
            q.push(" AND t.assignee_id IN (SELECT id FROM users WHERE team_id = ")
                .int(team)
                .push(")");
        }
        TaskWho::Anyone => {}
    }
    match f.status {
        TaskStatus::Open => {
            q.push(" AND t.done_at IS NULL");
        }
        TaskStatus::Done => {
            q.push(" AND t.done_at IS NOT NULL");
        }
        TaskStatus::All => {}
    }
    if let Some(before) = f.due_before {
        q.push(" AND t.due_at < ").int(before);
    }
    if let Some(words) = f.q.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        let pattern = like_pattern(words);
        q.push(" AND (LOWER(t.title) LIKE ")
            .text(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(c.name) LIKE ")
            .text(pattern)
            .push(" ESCAPE '\\')");
    }
    crate::customers::push_scope(q, actor);
}

const FROM: &str = " FROM tasks t JOIN customers c ON c.id = t.customer_id \
    WHERE c.deleted_at IS NULL";

impl Store {
    /// One page of tasks matching a filter, among customers the actor may see.
    pub async fn list_tasks(&self, actor: &Actor, f: &TaskFilter) -> Result<Vec<OpenTask>> {
        let columns = TASK_COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = SqlBuilder::new(&format!("SELECT {columns}, c.name AS customer_name{FROM}"));
        push_filter(&mut q, actor, f);
        q.push(match f.status {
            TaskStatus::Done => " ORDER BY t.done_at DESC, t.id DESC LIMIT ",
            _ => " ORDER BY t.due_at, t.id LIMIT ",
        })
        .int(f.limit.clamp(1, 500))
        .push(" OFFSET ")
        .int(f.offset.max(0));
        let rows = q.query_as::<OpenTaskRow>().fetch_all(&self.read).await?;
        Ok(rows
            .into_iter()
            .map(|r| OpenTask {
                customer_name: r.customer_name,
                task: r.task.into_record(),
            })
            .collect())
    }

    /// A page of tasks with the total and the overdue count of the whole filter.
    pub async fn task_list(&self, actor: &Actor, f: &TaskFilter, now_ms: i64) -> Result<TaskList> {
        let items = self.list_tasks(actor, f).await?;
        let (total, overdue) = self.count_tasks(actor, f, now_ms).await?;
        Ok(TaskList {
            items,
            total,
            overdue,
        })
    }

    /// How many tasks match a filter, and how many of those are open and due before `now_ms`.
    pub async fn count_tasks(
        &self,
        actor: &Actor,
        f: &TaskFilter,
        now_ms: i64,
    ) -> Result<(i64, i64)> {
        self.task_counts(actor, f, now_ms, None).await
    }

    /// [`Store::count_tasks`] for a dashboard: only the first `cap + 1` matching tasks in due
    /// order are counted, so a count above `cap` means "more than `cap`" (shown as "999+") and
    /// costs `cap` lookups, not one per task — a rep with 20,800 open tasks at a million
    /// customers took 80–150 ms. For open tasks the overdue ones come first in due order, so
    /// the overdue count is exact up to `cap` as well.
    pub async fn count_tasks_up_to(
        &self,
        actor: &Actor,
        f: &TaskFilter,
        now_ms: i64,
        cap: i64,
    ) -> Result<(i64, i64)> {
        self.task_counts(actor, f, now_ms, Some(cap)).await
    }

    /// Matching tasks and the open overdue ones among them, all of them or the first
    /// `cap + 1` in due order.
    async fn task_counts(
        &self,
        actor: &Actor,
        f: &TaskFilter,
        now_ms: i64,
        cap: Option<i64>,
    ) -> Result<(i64, i64)> {
        let mut q =
            SqlBuilder::new("SELECT COUNT(*), COUNT(CASE WHEN x.done_at IS NULL AND x.due_at < ");
        q.int(now_ms)
            .push(" THEN 1 END) FROM (SELECT t.done_at, t.due_at")
            .push(FROM);
        push_filter(&mut q, actor, f);
        if let Some(cap) = cap {
            q.push(" ORDER BY t.due_at LIMIT ").int(cap + 1);
        }
        q.push(") x");
        let (total, overdue): (i64, i64) = q.query_as().fetch_one(&self.read).await?;
        Ok((total, overdue))
    }
}

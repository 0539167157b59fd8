//! TEMPORARY local placeholder (not committed): replaced by the real charts module at merge.
#[derive(Debug, thiserror::Error)]
pub enum ChartError { #[error("x")] X }
pub struct Chart { pub name: &'static str, pub title: String, pub svg: String, pub png: Vec<u8>, pub width: u32, pub height: u32 }
pub struct RoleSpend { pub team: String, pub admin_cents: i64, pub member_cents: i64, pub viewer_cents: i64, pub collaborator_cents: i64 }
pub struct SeatActivity { pub team: String, pub active: u32, pub inactive: u32 }
pub struct RuleCount { pub rule_id: String, pub severity: String, pub count: usize }
fn c(name: &'static str) -> Chart { Chart { name, title: name.into(), svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".into(), png: vec![], width: 1, height: 1 } }
pub fn seat_spend_per_team(_: &[RoleSpend]) -> Result<Chart, ChartError> { Ok(c("seat-spend")) }
pub fn active_vs_inactive(_: &[SeatActivity]) -> Result<Chart, ChartError> { Ok(c("active-vs-inactive")) }
pub fn findings_by_severity_and_rule(_: &[RuleCount]) -> Result<Chart, ChartError> { Ok(c("findings-by-rule")) }
pub fn days_since_activity(_: &[Option<i64>], _: i64) -> Result<Chart, ChartError> { Ok(c("days-since-activity")) }

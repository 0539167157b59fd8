//! A generated organisation for benchmarks: the shape of a large enterprise (skewed team sizes,
//! mostly idle apps, a few very busy ones) without anyone having to write 10,000 members by hand.
//! Deterministic for a seed, so two benchmark runs crawl the same organisation.
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::fixture::{timestamp, Fixture, Token};
use super::SandboxError;

/// The bearer token a synthetic organisation accepts (for `auditor@synthetic.example`).
pub const SYNTHETIC_TOKEN: &str = "synthetic-audit-token";
const AUDITOR: &str = "auditor@synthetic.example";
const EA_NAME: &str = "synthetic";

/// How big to make a synthetic organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticParams {
    pub teams: usize,
    /// People, spread over teams (some are in more than one).
    pub members: usize,
    /// Team apps; a few personal apps come on top.
    pub apps: usize,
    pub seed: u64,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams { teams: 100, members: 10_000, apps: 5_000, seed: 1 }
    }
}

/// `teams=100,members=10000,apps=5000,seed=1`; omitted keys keep their defaults.
impl FromStr for SyntheticParams {
    type Err = SandboxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut params = SyntheticParams::default();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || SandboxError::Config(format!("synthetic: expected key=number, got {pair:?}"));
            let (key, value) = pair.split_once('=').ok_or_else(bad)?;
            let value: u64 = value.trim().parse().map_err(|_| bad())?;
            let size = usize::try_from(value).map_err(|_| bad())?;
            match key.trim() {
                "teams" => params.teams = size,
                "members" => params.members = size,
                "apps" => params.apps = size,
                "seed" => params.seed = value,
                other => return Err(SandboxError::Config(format!("synthetic: unknown key {other:?}"))),
            }
        }
        if params.teams == 0 {
            return Err(SandboxError::Config("synthetic: teams must be at least 1".into()));
        }
        Ok(params)
    }
}

struct Person {
    id: String,
    email: String,
    name: String,
    federated: bool,
    two_factor: bool,
}

struct Gen {
    rng: ChaCha8Rng,
    now: DateTime<Utc>,
}

impl Gen {
    fn uuid(&mut self) -> String {
        let hex = hex::encode(self.rng.random::<[u8; 16]>());
        format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
    }

    fn days_ago(&mut self, from: i64, to: i64) -> DateTime<Utc> {
        let seconds = self.rng.random_range(from * 86_400..=to.max(from) * 86_400);
        self.now - Duration::seconds(seconds)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }
}

/// Zipf-like weights: a few big teams, a long tail of small ones, as real organisations have.
struct Skew {
    cumulative: Vec<f64>,
}

impl Skew {
    fn new(n: usize) -> Skew {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / ((i + 1) as f64).powf(0.9);
                total
            })
            .collect();
        Skew { cumulative }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.cumulative.partition_point(|c| *c <= x).min(self.cumulative.len().saturating_sub(1))
    }
}

const ROLES: [(&str, f64); 4] = [("admin", 0.06), ("viewer", 0.13), ("collaborator", 0.30), ("member", 1.0)];

impl Fixture {
    /// Generate an organisation of the given size. Well under a second for 10,000 members.
    pub fn synthetic(params: &SyntheticParams) -> Fixture {
        // Apps and memberships need a team to land in.
        let params = &SyntheticParams { teams: params.teams.max(1), ..*params };
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).single().unwrap_or_default();
        let mut g = Gen { rng: ChaCha8Rng::seed_from_u64(params.seed), now };
        let ea_id = g.uuid();
        let ea_ref = json!({"id": ea_id, "name": EA_NAME});
        let auditor = Person {
            id: g.uuid(),
            email: AUDITOR.into(),
            name: "Audit Bot".into(),
            federated: false,
            two_factor: true,
        };
        let account = json!({
            "id": auditor.id, "email": auditor.email, "name": auditor.name,
            "allow_tracking": false, "beta": false, "federated": false, "identity_provider": null,
            "last_login": timestamp(now - Duration::hours(1)), "sms_number": null,
            "suspended_at": null, "delinquent_at": null, "two_factor_authentication": true,
            "verified": true, "default_organization": null, "default_team": null,
            "created_at": timestamp(g.days_ago(900, 1200)), "updated_at": timestamp(now - Duration::days(2)),
        });
        let people: Vec<Person> = (0..params.members)
            .map(|i| Person {
                id: g.uuid(),
                email: format!("user{i:05}@synthetic.example"),
                name: format!("User {i:05}"),
                federated: g.chance(0.7),
                two_factor: g.chance(0.8),
            })
            .collect();

        let mut fixture = Fixture {
            now,
            tokens: vec![Token { token: SYNTHETIC_TOKEN.into(), account: AUDITOR.into() }],
            accounts: vec![account],
            enterprise_accounts: vec![json!({
                "id": ea_id, "name": EA_NAME, "created_at": timestamp(g.days_ago(1500, 1600)),
                "updated_at": timestamp(g.days_ago(10, 60)), "permissions": ["view", "create", "manage", "billing"],
                "trial": false, "partner_benefits": null, "identity_provider": null,
            })],
            ea_members: Default::default(),
            ea_events: Default::default(),
            teams: Vec::new(),
            team_members: Default::default(),
            team_invitations: Default::default(),
            team_identity_providers: Default::default(),
            team_features: Default::default(),
            apps: Vec::new(),
            app_collaborators: Default::default(),
            app_releases: Default::default(),
            app_builds: Default::default(),
            oauth_authorizations: Vec::new(),
        };

        // Teams: the auditor administers nearly all of them; the rest show up as 403 gaps.
        let mut team_refs = Vec::with_capacity(params.teams);
        let mut auditor_roles = Vec::with_capacity(params.teams);
        for t in 0..params.teams {
            let id = g.uuid();
            let name = format!("team-{t:03}");
            let role = if t > 0 && g.chance(0.03) { "member" } else { "admin" };
            fixture.teams.push(json!({
                "id": id, "name": name, "type": "enterprise", "enterprise_account": ea_ref,
                "identity_provider": null, "role": role, "default": false, "membership_limit": null,
                "credit_card_collections": false, "provisioned_licenses": false,
                "created_at": timestamp(g.days_ago(400, 1400)), "updated_at": timestamp(g.days_ago(1, 300)),
            }));
            team_refs.push(json!({"id": id, "name": name}));
            auditor_roles.push(role);
        }

        // Memberships: one primary team per person by skewed weight, a fifth join a second one.
        let skew = Skew::new(params.teams);
        let mut team_people: Vec<Vec<(usize, &'static str)>> = vec![Vec::new(); params.teams];
        for (p, _) in people.iter().enumerate() {
            let first = skew.pick(&mut g.rng);
            let extra = g.chance(0.2).then(|| skew.pick(&mut g.rng)).filter(|t| *t != first);
            for team in std::iter::once(first).chain(extra) {
                let x = g.rng.random::<f64>();
                let role = ROLES.iter().find(|(_, p)| x < *p).map_or("member", |(r, _)| *r);
                team_people[team].push((p, role));
            }
        }
        for (t, members) in team_people.iter().enumerate() {
            let team_name = format!("team-{t:03}");
            let mut list = Vec::with_capacity(members.len() + 1);
            // The team's `role` is the caller's: its membership must say the same.
            list.push(member(&mut g, &auditor, auditor_roles[t]));
            for (p, role) in members {
                list.push(member(&mut g, &people[*p], role));
            }
            fixture.team_members.insert(team_name.clone(), list);
            if g.chance(0.15) {
                let count = g.rng.random_range(1..=3);
                let invitations = (0..count)
                    .map(|i| {
                        let at = timestamp(g.days_ago(1, 120));
                        json!({
                            "id": g.uuid(),
                            "user": {"id": g.uuid(), "email": format!("invitee{i}.{team_name}@synthetic.example"), "name": null},
                            "invited_by": {"id": auditor.id, "email": auditor.email, "name": auditor.name},
                            "team": team_refs[t], "role": "member", "created_at": at, "updated_at": at,
                        })
                    })
                    .collect();
                fixture.team_invitations.insert(team_name, invitations);
            }
        }

        // Enterprise members: everyone, a handful with more than `view`.
        let perm = |name: &str| json!({"name": name, "description": format!("Can {name}.")});
        let mut ea_members = vec![json!({
            "id": g.uuid(), "enterprise_account": ea_ref,
            "user": {"id": auditor.id, "email": auditor.email},
            "permissions": [perm("view"), perm("manage")],
            "two_factor_authentication": true, "identity_provider": null,
        })];
        for person in &people {
            let permissions =
                if g.chance(0.01) { json!([perm("view"), perm("manage")]) } else { json!([perm("view")]) };
            ea_members.push(json!({
                "id": g.uuid(), "enterprise_account": ea_ref,
                "user": {"id": person.id, "email": person.email},
                "permissions": permissions,
                "two_factor_authentication": person.two_factor, "identity_provider": null,
            }));
        }
        fixture.ea_members.insert(EA_NAME.into(), ea_members);

        // Team apps, then a few personal apps.
        let personal = params.apps / 100 + 3;
        for a in 0..params.apps + personal {
            let team = (a < params.apps).then(|| skew.pick(&mut g.rng));
            let app_name = format!("app-{a:05}");
            let app_id = g.uuid();
            let app_ref = json!({"id": app_id, "name": app_name});
            // Most apps are idle (last release > 180 days ago), some busy, a few very busy.
            let x = g.rng.random::<f64>();
            let (releases, newest, oldest) = if x < 0.65 {
                let newest = g.rng.random_range(181..1400);
                (g.rng.random_range(1..=6), newest, newest + g.rng.random_range(0..300))
            } else if x < 0.97 {
                let newest = g.rng.random_range(0..180);
                (g.rng.random_range(3..=30), newest, newest + g.rng.random_range(30..400))
            } else {
                (g.rng.random_range(100..=400), 0, 180)
            };
            let owner_people: Vec<&(usize, &str)> = team.map(|t| team_people[t].iter().collect()).unwrap_or_default();
            let owner = match team {
                Some(t) => {
                    json!({"id": team_refs[t]["id"], "email": format!("team-{t:03}@herokumanager.com")})
                }
                None => {
                    let p = pick(&mut g, &people, &auditor);
                    json!({"id": p.id, "email": p.email})
                }
            };
            let deployers: Vec<&Person> = owner_people.iter().take(8).map(|(p, _)| &people[*p]).collect();
            let mut release_list = Vec::with_capacity(releases);
            let mut build_list = Vec::new();
            let mut last = now;
            for v in 1..=releases {
                // Spread versions evenly from `oldest` to `newest` days ago, with jitter.
                let span = (oldest - newest) as f64;
                let back = oldest as f64 - span * (v as f64 / releases as f64);
                let at = now - Duration::seconds((back * 86_400.0) as i64 + g.rng.random_range(0..3_600));
                last = at;
                let who =
                    if deployers.is_empty() { &auditor } else { deployers[g.rng.random_range(0..deployers.len())] };
                let user = json!({"id": who.id, "email": who.email});
                let release_id = g.uuid();
                let is_build = v > 1 && g.chance(0.8);
                if is_build {
                    build_list.push(json!({
                        "id": g.uuid(), "app": {"id": app_id}, "buildpacks": null,
                        "created_at": timestamp(at - Duration::minutes(3)), "updated_at": timestamp(at),
                        "output_stream_url": null, "release": {"id": release_id}, "slug": null,
                        "source_blob": {"checksum": null, "url": null, "version": format!("{:07x}", g.rng.random::<u32>() >> 4), "version_description": null},
                        "stack": "heroku-24", "status": "succeeded", "user": user,
                    }));
                }
                release_list.push(json!({
                    "id": release_id, "version": v, "app": app_ref, "addon_plan_names": [], "artifacts": [],
                    "created_at": timestamp(at), "updated_at": timestamp(at),
                    "description": if is_build { format!("Deploy {:07x}", g.rng.random::<u32>() >> 4) } else { "Set config vars".to_string() },
                    "slug": null, "status": "succeeded", "user": user, "current": v == releases,
                    "output_stream_url": null, "eligible_for_rollback": v != releases,
                }));
            }
            let created = now - Duration::days(oldest + 1);
            let team_ref = team.map_or(Value::Null, |t| team_refs[t].clone());
            fixture.apps.push(json!({
                "id": app_id, "name": app_name, "team": team_ref, "owner": owner,
                "organization": team_ref, "region": {"id": "59accabd-516d-4f0e-83e6-6e3757701145", "name": "us"},
                "stack": {"id": "ee582d3c-717d-4a57-ba5f-8b3a39f3a817", "name": "heroku-24"},
                "build_stack": {"id": "ee582d3c-717d-4a57-ba5f-8b3a39f3a817", "name": "heroku-24"},
                "created_at": timestamp(created), "updated_at": timestamp(last + Duration::minutes(1)),
                "released_at": timestamp(last), "archived_at": null, "maintenance": false, "locked": false,
                "joined": false, "acm": false, "internal_routing": null, "space": null, "generation": "cedar",
                "buildpack_provided_description": "Node.js", "repo_size": null, "slug_size": 52_428_800,
                "git_url": format!("https://git.heroku.com/{app_name}.git"),
                "web_url": format!("https://{app_name}.herokuapp.com/"),
            }));
            fixture.app_releases.insert(app_name.clone(), release_list);
            if !build_list.is_empty() {
                fixture.app_builds.insert(app_name.clone(), build_list);
            }
            // Explicit grants: a few collaborators per app, picked among the team's people.
            let mut collaborators = Vec::new();
            let grants = if owner_people.is_empty() { 1 } else { g.rng.random_range(0..=3) };
            for _ in 0..grants {
                let person = if owner_people.is_empty() {
                    pick(&mut g, &people, &auditor)
                } else {
                    &people[owner_people[g.rng.random_range(0..owner_people.len())].0]
                };
                if collaborators.iter().any(|c: &Value| c["user"]["email"] == json!(person.email)) {
                    continue;
                }
                let names: &[&str] =
                    if g.chance(0.3) { &["view", "deploy", "operate", "manage"] } else { &["view", "deploy"] };
                let at = timestamp(g.days_ago(oldest.min(1300), oldest + 30));
                collaborators.push(json!({
                    "id": g.uuid(), "app": app_ref,
                    "user": {"id": person.id, "email": person.email, "federated": person.federated},
                    "role": if team.is_some() { Value::from("collaborator") } else { Value::Null },
                    "permissions": names.iter().map(|n| perm(n)).collect::<Vec<_>>(),
                    "created_at": at, "updated_at": at,
                }));
            }
            if !collaborators.is_empty() {
                fixture.app_collaborators.insert(app_name, collaborators);
            }
        }

        // Audit trail: ~100 days of events so archives span several months.
        let event_count = (params.members / 2).clamp(50, 5_000);
        let kinds = [
            ("team_membership", "create"),
            ("code_release", "create"),
            ("collaborator", "create"),
            ("app", "update"),
            ("config_change", "set"),
            ("team_membership", "destroy"),
        ];
        let mut events = Vec::with_capacity(event_count);
        for _ in 0..event_count {
            let (kind, action) = kinds[g.rng.random_range(0..kinds.len())];
            let actor = pick(&mut g, &people, &auditor);
            let at = g.days_ago(0, 100);
            let app = &fixture.apps[g.rng.random_range(0..fixture.apps.len())];
            let team = &team_refs[g.rng.random_range(0..team_refs.len())];
            let ip = format!("10.{}.{}.{}", g.rng.random::<u8>(), g.rng.random::<u8>(), g.rng.random::<u8>());
            events.push(json!({
                "id": g.uuid(), "created_at": timestamp(at), "type": kind, "action": action,
                "actor": {"id": actor.id, "email": actor.email},
                "app": {"id": app["id"], "name": app["name"]}, "owner": app["owner"],
                "enterprise_account": ea_ref, "team": team, "request": {"ip_address": ip}, "data": {},
            }));
        }
        fixture.ea_events.insert(EA_NAME.into(), events);

        for i in 0..3 {
            let at = timestamp(g.days_ago(30, 700));
            fixture.oauth_authorizations.push(json!({
                "id": g.uuid(), "description": format!("token {i}"), "scope": ["global"],
                "created_at": at, "updated_at": at,
                "client": null, "session": null, "grant": null, "refresh_token": null,
                "access_token": {"id": g.uuid(), "expires_in": null, "token": format!("HRKU-synthetic-{i}")},
                "user": {"id": auditor.id, "email": auditor.email, "full_name": auditor.name},
            }));
        }
        fixture
    }
}

/// A random person, or `fallback` in an organisation generated with no members.
fn pick<'p>(g: &mut Gen, people: &'p [Person], fallback: &'p Person) -> &'p Person {
    if people.is_empty() {
        fallback
    } else {
        &people[g.rng.random_range(0..people.len())]
    }
}

fn member(g: &mut Gen, person: &Person, role: &str) -> Value {
    let created = g.days_ago(10, 1200);
    json!({
        "id": person.id, "email": person.email, "role": role, "federated": person.federated,
        "two_factor_authentication": person.two_factor, "identity_provider": null,
        "user": {"id": person.id, "email": person.email, "name": person.name},
        "created_at": timestamp(created), "updated_at": timestamp(created),
    })
}

//! A large synthetic snapshot written directly as Parquet (no API), plus an Okta-shaped IdP
//! export: what the analyze and worksheet benchmarks measure hkaudit on.
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use hkaudit::snapshot::{schema, ActivityWindow, Manifest, SnapshotWriter, TableBuilder, TableInfo, FORMAT_VERSION};
use polars::io::parquet::write::BatchedWriter;
use polars::prelude::{DataFrame, ParquetWriter};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const DOMAIN: &str = "bench.example";
pub const AUDITOR: &str = "auditor@bench.example";
pub const EA_NAME: &str = "bench";
pub const CHUNK: usize = 500_000;

#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub teams: usize,
    pub people: usize,
    pub memberships: usize,
    pub activity: usize,
    pub apps: usize,
    pub idp_users: usize,
}

impl Sizes {
    pub fn key(&self) -> String {
        format!(
            "t{}-p{}-m{}-a{}-apps{}-idp{}-v2",
            self.teams, self.people, self.memberships, self.activity, self.apps, self.idp_users
        )
    }
}

fn uuid(kind: u32, n: u64) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

pub fn email(person: usize) -> String {
    // About 3% are contractors outside the organisation's domain.
    if person % 33 == 7 {
        format!("user{person:06}@contractor.example")
    } else {
        format!("user{person:06}@{DOMAIN}")
    }
}

fn in_enterprise(person: usize) -> bool {
    person % 97 != 3
}

/// Zipf-like weights: a few heavy items, a long tail.
struct Skew(Vec<f64>);

impl Skew {
    fn new(n: usize, s: f64) -> Skew {
        let mut total = 0.0;
        Skew(
            (0..n)
                .map(|i| {
                    total += 1.0 / ((i + 1) as f64).powf(s);
                    total
                })
                .collect(),
        )
    }
    fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        let x = rng.random::<f64>() * self.0.last().copied().unwrap_or(0.0);
        self.0.partition_point(|c| *c <= x).min(self.0.len().saturating_sub(1))
    }
}

/// A Parquet table written in chunks (row groups), so 10M rows never sit in memory at once.
struct ChunkedTable {
    name: &'static str,
    path: PathBuf,
    writer: Option<BatchedWriter<File>>,
    rows: u64,
    columns: Vec<String>,
}

impl ChunkedTable {
    fn new(dir: &Path, name: &'static str) -> ChunkedTable {
        ChunkedTable { name, path: dir.join(format!("{name}.parquet")), writer: None, rows: 0, columns: Vec::new() }
    }
    fn write(&mut self, df: &DataFrame) -> anyhow::Result<()> {
        // These tables bypass `SnapshotWriter::write_table`, so they get its check here.
        schema::table(self.name).context("a chunked table is not a snapshot table")?.check(df)?;
        if self.writer.is_none() {
            let file = File::create(&self.path)?;
            self.writer = Some(ParquetWriter::new(file).batched(df.schema())?);
            self.columns = df.get_column_names().iter().map(|c| c.to_string()).collect();
        }
        if let Some(w) = &mut self.writer {
            w.write_batch(df)?;
        }
        self.rows += df.height() as u64;
        Ok(())
    }
    fn finish(self) -> anyhow::Result<(String, TableInfo)> {
        self.writer.context("a chunked table got no rows")?.finish()?;
        let mut file = File::open(&self.path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let info = TableInfo {
            file: format!("{}.parquet", self.name),
            rows: self.rows,
            columns: self.columns,
            sha256: hex::encode(hasher.finalize()),
        };
        Ok((self.name.to_owned(), info))
    }
}

struct Membership {
    team: u32,
    person: u32,
    role: &'static str,
}

struct App {
    id: String,
    name: String,
    team: Option<usize>,
    owner: Option<usize>,
    last_release_days: i64,
}

struct ActivityRow {
    at: DateTime<Utc>,
    kind: &'static str,
    id: String,
    action: String,
    person: usize,
    app: Option<usize>,
    team: Option<usize>,
    target: Option<usize>,
}

fn team_id(t: usize) -> String {
    uuid(2, t as u64)
}
pub fn team_name(t: usize) -> String {
    format!("team-{t:04}")
}

/// Generate the snapshot into `dir/snapshots/bench` and the IdP export `dir/okta-users.csv`.
pub fn generate(dir: &Path, sizes: Sizes, as_of: DateTime<Utc>) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let days = 180;
    let since = as_of - Duration::days(days);
    let ea_id = uuid(1, 1);
    let ago = |rng: &mut ChaCha8Rng, from: i64, to: i64| {
        as_of - Duration::seconds(rng.random_range(from * 86_400..=to * 86_400))
    };
    let two_factor = |p: usize| p % 41 != 5; // ~2.4% without 2FA
    let federated = |p: usize| !p.is_multiple_of(10); // 90% sign in through SSO
    let sso_team = |t: usize| t % 10 == 3; // 10% of teams use SSO

    let out = dir.join("snapshots");
    let _ = std::fs::remove_dir_all(&out);
    let mut writer = SnapshotWriter::begin(&out, "bench")?;
    let tmp = writer.temporary_dir().to_owned();
    let mut extra_tables: Vec<(String, TableInfo)> = Vec::new();

    // account, enterprise_accounts
    let mut df = TableBuilder::new()
        .str("id", [Some(uuid(3, 0))])
        .str("email", [Some(AUDITOR)])
        .str("email_norm", [Some(AUDITOR)])
        .str("name", [Some("Audit Bot")])
        .bool("federated", [Some(false)])
        .bool("two_factor_authentication", [Some(true)])
        .time("last_login", [Some(as_of - Duration::hours(1))])
        .time("created_at", [Some(as_of - Duration::days(1000))])
        .build("account")?;
    writer.write_table("account", &mut df)?;
    let mut df = TableBuilder::new()
        .str("id", [Some(&ea_id)])
        .str("name", [Some(EA_NAME)])
        .list(
            "caller_permissions",
            [vec!["view".to_owned(), "create".to_owned(), "manage".to_owned(), "billing".to_owned()]],
        )
        .bool("trial", [Some(false)])
        .str::<&str>("identity_provider_id", [None])
        .time("created_at", [Some(as_of - Duration::days(1500))])
        .time("updated_at", [Some(as_of - Duration::days(20))])
        .build("enterprise_accounts")?;
    writer.write_table("enterprise_accounts", &mut df)?;

    // enterprise_members: everyone but ~1% (removed from the account, still in teams).
    let members: Vec<usize> = (0..sizes.people).filter(|p| in_enterprise(*p)).collect();
    let mut sorted_members: Vec<(String, usize)> = members.iter().map(|p| (email(*p), *p)).collect();
    sorted_members.sort();
    let mut df = TableBuilder::new()
        .str("enterprise_account_id", sorted_members.iter().map(|_| Some(&ea_id)))
        .str("enterprise_account_name", sorted_members.iter().map(|_| Some(EA_NAME)))
        .str("member_id", sorted_members.iter().map(|(_, p)| Some(uuid(4, *p as u64))))
        .str("user_id", sorted_members.iter().map(|(_, p)| Some(uuid(3, *p as u64 + 1))))
        .str("email", sorted_members.iter().map(|(e, _)| Some(e)))
        .str("email_norm", sorted_members.iter().map(|(e, _)| Some(e)))
        .list(
            "permissions",
            sorted_members.iter().map(|(_, p)| {
                if p % 100 == 42 {
                    vec!["view".to_owned(), "manage".to_owned()]
                } else {
                    vec!["view".to_owned()]
                }
            }),
        )
        .bool("two_factor_authentication", sorted_members.iter().map(|(_, p)| Some(two_factor(*p))))
        .bool("federated", sorted_members.iter().map(|(_, p)| Some(federated(*p))))
        .str("identity_provider_id", sorted_members.iter().map(|(_, p)| federated(*p).then(|| uuid(5, 0))))
        .build("enterprise_members")?;
    drop(sorted_members);
    writer.write_table("enterprise_members", &mut df)?;
    drop(df);

    // teams
    let mut df = TableBuilder::new()
        .str("id", (0..sizes.teams).map(|t| Some(team_id(t))))
        .str("name", (0..sizes.teams).map(|t| Some(team_name(t))))
        .str("type", (0..sizes.teams).map(|_| Some("enterprise")))
        .str("enterprise_account_id", (0..sizes.teams).map(|_| Some(&ea_id)))
        .str("enterprise_account_name", (0..sizes.teams).map(|_| Some(EA_NAME)))
        .str("identity_provider_id", (0..sizes.teams).map(|t| sso_team(t).then(|| uuid(5, t as u64 + 1))))
        .str("caller_role", (0..sizes.teams).map(|_| Some("admin")))
        .f64("membership_limit", (0..sizes.teams).map(|_| None))
        .bool("default", (0..sizes.teams).map(|_| Some(false)))
        .time("created_at", (0..sizes.teams).map(|t| Some(as_of - Duration::days(400 + (t as i64 % 900)))))
        .time("updated_at", (0..sizes.teams).map(|t| Some(as_of - Duration::days(1 + (t as i64 % 300)))))
        .build("teams")?;
    writer.write_table("teams", &mut df)?;
    let sso: Vec<usize> = (0..sizes.teams).filter(|t| sso_team(*t)).collect();
    let mut df = TableBuilder::new()
        .str("id", sso.iter().map(|t| Some(uuid(5, *t as u64 + 1))))
        .str("team_id", sso.iter().map(|t| Some(team_id(*t))))
        .str("team_name", sso.iter().map(|t| Some(team_name(*t))))
        .str("entity_id", sso.iter().map(|t| Some(format!("https://idp.bench.example/{t}"))))
        .str("sso_target_url", sso.iter().map(|t| Some(format!("https://idp.bench.example/sso/{t}"))))
        .time("created_at", sso.iter().map(|_| Some(as_of - Duration::days(300))))
        .time("updated_at", sso.iter().map(|_| Some(as_of - Duration::days(30))))
        .build("identity_providers")?;
    writer.write_table("identity_providers", &mut df)?;

    // team_members: each person joins k distinct teams (skewed team sizes), k tuned so the total
    // is exactly `memberships`.
    let team_skew = Skew::new(sizes.teams, 0.9);
    let mean = sizes.memberships as f64 / sizes.people.max(1) as f64;
    let max_k = (sizes.teams / 2).max(1);
    let mut ks: Vec<usize> = (0..sizes.people)
        .map(|_| ((1.0 + -(1.0 - rng.random::<f64>()).ln() * (mean - 1.0).max(0.0)) as usize).clamp(1, max_k))
        .collect();
    let mut total: usize = ks.iter().sum();
    while total != sizes.memberships {
        let p = rng.random_range(0..sizes.people);
        if total < sizes.memberships && ks[p] < max_k {
            ks[p] += 1;
            total += 1;
        } else if total > sizes.memberships && ks[p] > 0 {
            ks[p] -= 1;
            total -= 1;
        }
    }
    let mut memberships: Vec<Membership> = Vec::with_capacity(sizes.memberships);
    let mut chosen: Vec<usize> = Vec::new();
    for (p, k) in ks.iter().enumerate() {
        chosen.clear();
        while chosen.len() < *k {
            let t = team_skew.pick(&mut rng);
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        for t in &chosen {
            let x = rng.random::<f64>();
            let role = if x < 0.03 {
                "admin"
            } else if x < 0.13 {
                "viewer"
            } else if x < 0.33 {
                "collaborator"
            } else {
                "member"
            };
            memberships.push(Membership { team: *t as u32, person: p as u32, role });
        }
    }
    drop(ks);
    // (team_name, email_norm): zero-padded numbers sort like the names.
    memberships.sort_by_key(|m| (m.team, m.person));
    let mut table = ChunkedTable::new(&tmp, "team_members");
    for chunk in memberships.chunks(CHUNK) {
        let created: Vec<DateTime<Utc>> = chunk.iter().map(|_| ago(&mut rng, 10, 1200)).collect();
        let df = TableBuilder::new()
            .str("team_id", chunk.iter().map(|m| Some(team_id(m.team as usize))))
            .str("team_name", chunk.iter().map(|m| Some(team_name(m.team as usize))))
            .str("enterprise_account_id", chunk.iter().map(|_| Some(&ea_id)))
            .str("member_id", chunk.iter().map(|m| Some(uuid(3, m.person as u64 + 1))))
            .str("user_id", chunk.iter().map(|m| Some(uuid(3, m.person as u64 + 1))))
            .str("email", chunk.iter().map(|m| Some(email(m.person as usize))))
            .str("email_norm", chunk.iter().map(|m| Some(email(m.person as usize))))
            .str("name", chunk.iter().map(|m| Some(format!("User {:06}", m.person))))
            .str("role", chunk.iter().map(|m| Some(m.role)))
            .bool("federated", chunk.iter().map(|m| Some(federated(m.person as usize))))
            .bool("two_factor_authentication", chunk.iter().map(|m| Some(two_factor(m.person as usize))))
            .str(
                "identity_provider_id",
                chunk.iter().map(|m| {
                    (sso_team(m.team as usize) && federated(m.person as usize)).then(|| uuid(5, m.team as u64 + 1))
                }),
            )
            .time("created_at", created.iter().map(|c| Some(*c)))
            .time("updated_at", created.iter().map(|c| Some(*c)))
            .build("team_members")?;
        table.write(&df)?;
    }
    extra_tables.push(table.finish()?);
    // Members of each team, for app grants.
    let mut team_people: Vec<Vec<u32>> = vec![Vec::new(); sizes.teams];
    for m in &memberships {
        team_people[m.team as usize].push(m.person);
    }
    drop(memberships);

    // team_invitations: ~2 per team, most recent, some stale.
    let invitations = sizes.teams * 2;
    let mut invs: Vec<(usize, usize, DateTime<Utc>)> =
        (0..invitations).map(|i| (team_skew.pick(&mut rng), i, ago(&mut rng, 1, 200))).collect();
    invs.sort_by_key(|(t, i, _)| (*t, uuid(6, *i as u64)));
    let mut df = TableBuilder::new()
        .str("id", invs.iter().map(|(_, i, _)| Some(uuid(6, *i as u64))))
        .str("team_id", invs.iter().map(|(t, _, _)| Some(team_id(*t))))
        .str("team_name", invs.iter().map(|(t, _, _)| Some(team_name(*t))))
        .str("enterprise_account_id", invs.iter().map(|_| Some(&ea_id)))
        .str("user_id", invs.iter().map(|(_, i, _)| Some(uuid(7, *i as u64))))
        .str("email", invs.iter().map(|(_, i, _)| Some(format!("invitee{i:05}@{DOMAIN}"))))
        .str("email_norm", invs.iter().map(|(_, i, _)| Some(format!("invitee{i:05}@{DOMAIN}"))))
        .str("role", invs.iter().map(|_| Some("member")))
        .str("invited_by_email", invs.iter().map(|_| Some(AUDITOR)))
        .time("created_at", invs.iter().map(|(_, _, c)| Some(*c)))
        .time("updated_at", invs.iter().map(|(_, _, c)| Some(*c)))
        .build("team_invitations")?;
    writer.write_table("team_invitations", &mut df)?;

    // apps: team apps on skewed teams, 1% personal; 65% idle, 32% busy, 3% very busy.
    let personal = sizes.apps / 100 + 1;
    let apps: Vec<App> = (0..sizes.apps + personal)
        .map(|a| {
            let team = (a < sizes.apps).then(|| team_skew.pick(&mut rng));
            let x = rng.random::<f64>();
            let last_release_days = if x < 0.65 {
                rng.random_range(181..1400)
            } else if x < 0.97 {
                rng.random_range(0..180)
            } else {
                0
            };
            App {
                id: uuid(8, a as u64),
                name: format!("app-{a:05}"),
                team,
                owner: team.is_none().then(|| rng.random_range(0..sizes.people)),
                last_release_days,
            }
        })
        .collect();
    let mut df = TableBuilder::new()
        .str("id", apps.iter().map(|a| Some(&a.id)))
        .str("name", apps.iter().map(|a| Some(&a.name)))
        .str("team_id", apps.iter().map(|a| a.team.map(team_id)))
        .str("team_name", apps.iter().map(|a| a.team.map(team_name)))
        .bool("personal", apps.iter().map(|a| Some(a.team.is_none())))
        .str(
            "owner_id",
            apps.iter().map(|a| Some(a.team.map_or_else(|| uuid(3, a.owner.unwrap_or(0) as u64 + 1), team_id))),
        )
        .str(
            "owner_email",
            apps.iter().map(|a| {
                Some(
                    a.team
                        .map_or_else(|| email(a.owner.unwrap_or(0)), |t| format!("{}@herokumanager.com", team_name(t))),
                )
            }),
        )
        .str(
            "owner_email_norm",
            apps.iter().map(|a| {
                Some(
                    a.team
                        .map_or_else(|| email(a.owner.unwrap_or(0)), |t| format!("{}@herokumanager.com", team_name(t))),
                )
            }),
        )
        .bool("locked", apps.iter().map(|_| Some(false)))
        .time("created_at", apps.iter().map(|a| Some(as_of - Duration::days(a.last_release_days + 400))))
        .time("updated_at", apps.iter().map(|a| Some(as_of - Duration::days(a.last_release_days))))
        .time("released_at", apps.iter().map(|a| Some(as_of - Duration::days(a.last_release_days))))
        .bool("activity_scanned", apps.iter().map(|a| Some(a.last_release_days < days)))
        .build("apps")?;
    writer.write_table("apps", &mut df)?;

    // app_permissions: explicit grants (0-4 of the team's members per team app), personal apps'
    // owners and collaborators. Team-role rows (every member on every team app) are left out:
    // at 1M memberships they would be hundreds of millions of rows.
    let mut grants: Vec<(usize, usize, Vec<String>, &'static str)> = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        match app.team {
            Some(t) => {
                let people = &team_people[t];
                let mut picked: Vec<usize> = Vec::new();
                for _ in 0..rng.random_range(0..=4usize) {
                    if people.is_empty() {
                        break;
                    }
                    let p = people[rng.random_range(0..people.len())] as usize;
                    if !picked.contains(&p) {
                        picked.push(p);
                        grants.push((i, p, vec!["view".into(), "deploy".into()], "explicit"));
                    }
                }
            }
            None => {
                let owner = app.owner.unwrap_or(0);
                grants.push((i, owner, ["view", "deploy", "operate", "manage"].map(String::from).to_vec(), "owner"));
                for _ in 0..rng.random_range(1..=3) {
                    let p = rng.random_range(0..sizes.people);
                    if p != owner && !grants.iter().rev().take(4).any(|g| g.0 == i && g.1 == p) {
                        grants.push((i, p, vec!["view".into(), "deploy".into()], "personal-collaborator"));
                    }
                }
            }
        }
    }
    grants.sort_by_key(|(a, p, _, _)| (apps[*a].name.clone(), email(*p)));
    let mut df = TableBuilder::new()
        .str("app_id", grants.iter().map(|g| Some(&apps[g.0].id)))
        .str("app_name", grants.iter().map(|g| Some(&apps[g.0].name)))
        .str("team_id", grants.iter().map(|g| apps[g.0].team.map(team_id)))
        .str("team_name", grants.iter().map(|g| apps[g.0].team.map(team_name)))
        .str("user_id", grants.iter().map(|g| Some(uuid(3, g.1 as u64 + 1))))
        .str("email", grants.iter().map(|g| Some(email(g.1))))
        .str("email_norm", grants.iter().map(|g| Some(email(g.1))))
        .list("permissions", grants.iter().map(|g| g.2.clone()))
        .list("sources", grants.iter().map(|g| vec![g.3.to_owned()]))
        .build("app_permissions")?;
    writer.write_table("app_permissions", &mut df)?;
    drop(grants);
    drop(team_people);

    // activity (+ audit_events for its audit rows): time-ordered chunks over the window; 60% of
    // people ever act, with a skew (a few very active deployers), on skewed busy apps.
    let mut active_people: Vec<usize> = (0..sizes.people).filter(|p| p % 10 < 6).collect();
    for i in (1..active_people.len()).rev() {
        let j = rng.random_range(0..=i);
        active_people.swap(i, j);
    }
    let people_skew = Skew::new(active_people.len().max(1), 0.8);
    let busy: Vec<usize> =
        (0..apps.len()).filter(|a| apps[*a].last_release_days < days && apps[*a].team.is_some()).collect();
    let app_skew = Skew::new(busy.len().max(1), 1.0);
    let removed: Vec<usize> = (0..sizes.people).filter(|p| !in_enterprise(*p)).collect();
    let audit_kinds = [
        ("team_membership", "create"),
        ("app", "update"),
        ("config_change", "set"),
        ("collaborator", "create"),
        ("enterprise_account_membership", "destroy"),
    ];
    let span_ms = (as_of - since).num_milliseconds();
    let chunks = sizes.activity.div_ceil(CHUNK).max(1);
    let mut activity = ChunkedTable::new(&tmp, "activity");
    let mut audit = ChunkedTable::new(&tmp, "audit_events");
    let mut n: u64 = 0;
    for c in 0..chunks {
        let rows_here = CHUNK.min(sizes.activity - c * CHUNK);
        let from = span_ms * c as i64 / chunks as i64;
        let to = span_ms * (c as i64 + 1) / chunks as i64;
        let mut rows: Vec<ActivityRow> = (0..rows_here)
            .map(|_| {
                n += 1;
                let at = since + Duration::milliseconds(rng.random_range(from..to));
                let person = active_people.get(people_skew.pick(&mut rng)).copied().unwrap_or(0);
                let x = rng.random::<f64>();
                if x < 0.98 || busy.is_empty() {
                    let kind = if x < 0.55 { "release" } else { "build" };
                    let app = busy.get(app_skew.pick(&mut rng)).copied();
                    ActivityRow {
                        at,
                        kind,
                        id: uuid(9, n),
                        action: format!("{kind}.succeeded"),
                        person,
                        app,
                        team: app.and_then(|a| apps[a].team),
                        target: None,
                    }
                } else {
                    let (t, a) = audit_kinds[rng.random_range(0..audit_kinds.len())];
                    let target = (t == "enterprise_account_membership" && !removed.is_empty())
                        .then(|| removed[rng.random_range(0..removed.len())]);
                    let app = busy.get(app_skew.pick(&mut rng)).copied();
                    ActivityRow {
                        at,
                        kind: "audit",
                        id: uuid(10, n),
                        action: format!("{t}.{a}"),
                        person,
                        app,
                        team: app.and_then(|a| apps[a].team),
                        target,
                    }
                }
            })
            .collect();
        rows.sort_by(|a, b| (a.at, a.kind, &a.id).cmp(&(b.at, b.kind, &b.id)));
        let df = TableBuilder::new()
            .str("id", rows.iter().map(|r| Some(&r.id)))
            .str("kind", rows.iter().map(|r| Some(r.kind)))
            .str("action", rows.iter().map(|r| Some(&r.action)))
            .str("user_id", rows.iter().map(|r| Some(uuid(3, r.person as u64 + 1))))
            .str("user_email", rows.iter().map(|r| Some(email(r.person))))
            .str("user_email_norm", rows.iter().map(|r| Some(email(r.person))))
            .str("app_id", rows.iter().map(|r| r.app.map(|a| &apps[a].id)))
            .str("app_name", rows.iter().map(|r| r.app.map(|a| &apps[a].name)))
            .str("team_id", rows.iter().map(|r| r.team.map(team_id)))
            .str("enterprise_account_id", rows.iter().map(|r| (r.kind == "audit").then_some(&ea_id)))
            .time("at", rows.iter().map(|r| Some(r.at)))
            .build("activity")?;
        activity.write(&df)?;
        drop(df);
        let ev: Vec<&ActivityRow> = rows.iter().filter(|r| r.kind == "audit").collect();
        let df = TableBuilder::new()
            .str("id", ev.iter().map(|r| Some(&r.id)))
            .str("enterprise_account_id", ev.iter().map(|_| Some(&ea_id)))
            .str("enterprise_account_name", ev.iter().map(|_| Some(EA_NAME)))
            .time("created_at", ev.iter().map(|r| Some(r.at)))
            .str("type", ev.iter().map(|r| r.action.split_once('.').map(|(t, _)| t)))
            .str("action", ev.iter().map(|r| r.action.split_once('.').map(|(_, a)| a)))
            .str("name", ev.iter().map(|r| Some(&r.action)))
            .str("actor_id", ev.iter().map(|r| Some(uuid(3, r.person as u64 + 1))))
            .str("actor_email", ev.iter().map(|r| Some(email(r.person))))
            .str("actor_email_norm", ev.iter().map(|r| Some(email(r.person))))
            .str("app_id", ev.iter().map(|r| r.app.map(|a| &apps[a].id)))
            .str("app_name", ev.iter().map(|r| r.app.map(|a| &apps[a].name)))
            .str("team_id", ev.iter().map(|r| r.team.map(team_id)))
            .str("team_name", ev.iter().map(|r| r.team.map(team_name)))
            .str("owner_email", ev.iter().map(|r| r.team.map(|t| format!("{}@herokumanager.com", team_name(t)))))
            .str("owner_email_norm", ev.iter().map(|r| r.team.map(|t| format!("{}@herokumanager.com", team_name(t)))))
            .str("target_email", ev.iter().map(|r| r.target.map(email)))
            .str("target_email_norm", ev.iter().map(|r| r.target.map(email)))
            .str("request_ip", ev.iter().map(|r| Some(format!("10.0.{}.{}", r.person % 256, r.person / 256 % 256))))
            .str(
                "data",
                ev.iter().map(|r| {
                    Some(r.target.map_or_else(|| "{}".to_owned(), |t| json!({"user": {"email": email(t)}}).to_string()))
                }),
            )
            .build("audit_events")?;
        audit.write(&df)?;
    }
    extra_tables.push(activity.finish()?);
    extra_tables.push(audit.finish()?);

    // authorizations: mostly current members' tokens, some of people who have left.
    // The owner's user id is the person's, as on Heroku (rules match owners by it).
    let auths: Vec<(usize, String, String)> = (0..500usize)
        .map(|i| {
            if i % 5 == 0 {
                (i, format!("gone{i:04}@{DOMAIN}"), uuid(12, i as u64))
            } else {
                let p = rng.random_range(0..sizes.people);
                (i, email(p), uuid(3, p as u64 + 1))
            }
        })
        .collect();
    let mut df = TableBuilder::new()
        .str("id", auths.iter().map(|(i, _, _)| Some(uuid(11, *i as u64))))
        .str("user_id", auths.iter().map(|(_, _, u)| Some(u)))
        .str("user_email", auths.iter().map(|(_, e, _)| Some(e)))
        .str("user_email_norm", auths.iter().map(|(_, e, _)| Some(e)))
        .str("description", auths.iter().map(|(i, _, _)| Some(format!("token {i}"))))
        .list("scopes", auths.iter().map(|_| vec!["global".to_owned()]))
        .str::<&str>("client_id", auths.iter().map(|_| None))
        .str::<&str>("client_name", auths.iter().map(|_| None))
        .time("created_at", auths.iter().map(|(i, _, _)| Some(as_of - Duration::days(30 + *i as i64))))
        .time("updated_at", auths.iter().map(|(i, _, _)| Some(as_of - Duration::days(30 + *i as i64))))
        .time("expires_at", auths.iter().map(|(i, _, _)| (i % 3 == 0).then(|| as_of + Duration::days(*i as i64 - 250))))
        .str("source", auths.iter().map(|_| Some("api")))
        .build("authorizations")?;
    writer.write_table("authorizations", &mut df)?;

    // A table this generator does not fill (one added to the format later) is written empty.
    for def in schema::TABLE_DEFS {
        if !writer.tables().contains_key(def.name) && !extra_tables.iter().any(|(name, _)| name == def.name) {
            writer.write_table(def.name, &mut def.empty_frame()?)?;
        }
    }
    let mut tables = writer.tables().clone();
    tables.extend(extra_tables);
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        snapshot_id: "bench".into(),
        taken_at: Utc::now(),
        as_of,
        api_url: "synthetic://analyze-bench".into(),
        account_email: Some(AUDITOR.into()),
        hkaudit_version: "bench".into(),
        activity_window: ActivityWindow { days: days as u32, since, until: as_of },
        complete: true,
        tables,
        endpoints: BTreeMap::new(),
        rate_limit: None,
        gaps: Vec::new(),
    };
    writer.finish(&manifest)?;

    write_okta_export(&dir.join("okta-users.csv"), sizes)
}

/// Okta-shaped IdP export (API CSV columns): ~1% of the organisation's people absent, ~3%
/// suspended or deprovisioned; former employees past `people` as deprovisioned rows.
pub fn write_okta_export(path: &Path, sizes: Sizes) -> anyhow::Result<()> {
    let mut csv = BufWriter::new(File::create(path)?);
    writeln!(csv, "id,status,statusChanged,lastLogin,login,email")?;
    let mut written = 0;
    let mut p = 0;
    while written < sizes.idp_users {
        let address = if p < sizes.people {
            let e = email(p);
            if !e.ends_with(DOMAIN) || p % 101 == 5 {
                p += 1;
                continue;
            }
            e
        } else {
            format!("former{p:07}@{DOMAIN}")
        };
        let status = if p >= sizes.people || p % 71 == 2 {
            "DEPROVISIONED"
        } else if p % 53 == 1 {
            "SUSPENDED"
        } else {
            "ACTIVE"
        };
        writeln!(
            csv,
            "00u{p:07},{status},2026-01-15T08:00:00.000Z,2026-04-{:02}T09:00:00.000Z,{address},{address}",
            1 + p % 28
        )?;
        written += 1;
        p += 1;
    }
    csv.flush()?;
    Ok(())
}

/// An Entra ID sign-in log as the admin center's "Download → CSV" writes it: `rows` interactive
/// sign-ins over the 91 days before `as_of`, newest first, one in five to Heroku (the rest to
/// Exchange Online, Teams and SharePoint), one in twenty failed. The people are the snapshot's,
/// so the sign-ins join its memberships.
pub fn write_entra_signins(path: &Path, sizes: Sizes, rows: usize, as_of: DateTime<Utc>) -> anyhow::Result<()> {
    const APPS: [(&str, &str); 4] = [
        ("Heroku", "6e2a8e4d-1111-4b3c-9a8e-2f1e0d9c8b7a"),
        ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
        ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
        ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000"),
    ];
    let mut csv = BufWriter::new(File::create(path)?);
    writeln!(
        csv,
        "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Application,Application ID,\
         Resource,Resource ID,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Conditional Access"
    )?;
    // A day more than the 90, so that the log covers the whole inactive_days period.
    let span = 91 * 86_400i64;
    let people = sizes.people.max(1);
    for i in 0..rows {
        // Newest first, evenly spread over the period.
        let at = as_of - Duration::seconds(span * i as i64 / rows.max(1) as i64);
        // Each application's sign-ins walk through every person (7919 is prime).
        let person = (i / 5 * 7919 + i % 5) % people;
        let (app, app_id) = if i % 5 == 0 { APPS[0] } else { APPS[1 + i % 3] };
        let (status, code, reason) =
            if i % 20 == 3 { ("Failure", 50126, "Invalid username or password.") } else { ("Success", 0, "Other.") };
        writeln!(
            csv,
            "{},{},Mozilla/5.0 (Windows NT 10.0; Win64; x64),{},{},User {person},{},Member,{app},{app_id},{app},{app_id},\
             198.51.100.{},\"Seattle, Washington, US\",{status},{code},{reason},Browser,Not Applied",
            at.format("%Y-%m-%dT%H:%M:%SZ"),
            uuid(7, i as u64),
            uuid(8, i as u64),
            uuid(1, person as u64),
            email(person),
            i % 250,
        )?;
    }
    csv.flush()?;
    Ok(())
}

//! The snapshot's tables, defined once: name, columns in order, their type, whether they can be
//! null, and what they hold. The writer refuses a frame that differs from its definition, so
//! `extract`, the test kit and the benchmarks' generator cannot drift apart; `docs/snapshot.md`
//! lists the same columns, and a test compares the two.
//!
//! Adding a table: its definition here, the code in `extract/tables.rs` that fills it, and its
//! section in `docs/snapshot.md`.
use polars::prelude::{DataFrame, DataType, TimeUnit, TimeZone};

use super::{SnapshotError, TableBuilder};

/// The types a snapshot column can have (docs/snapshot.md, "Conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Str,
    Bool,
    F64,
    /// `datetime[ms, UTC]`.
    Time,
    /// A list of strings.
    List,
}

impl ColumnType {
    pub fn dtype(self) -> DataType {
        match self {
            ColumnType::Str => DataType::String,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::F64 => DataType::Float64,
            ColumnType::Time => DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
            ColumnType::List => DataType::List(Box::new(DataType::String)),
        }
    }

    /// How `docs/snapshot.md` writes the type.
    pub fn doc_name(self) -> &'static str {
        match self {
            ColumnType::Str => "str",
            ColumnType::Bool => "bool",
            ColumnType::F64 => "f64",
            ColumnType::Time => "datetime",
            ColumnType::List => "list[str]",
        }
    }
}

/// Whether a column may hold nulls. Null means unknown (docs/snapshot.md), so most columns
/// may; `Never` marks the ones every row has (keys, what hkaudit derives itself, and lists,
/// which are empty rather than null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    Allowed,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: ColumnType,
    pub nulls: Nulls,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [ColumnDef],
}

use ColumnType::{Bool, List, Str, Time, F64};
use Nulls::{Allowed, Never};

const fn col(name: &'static str, ty: ColumnType, nulls: Nulls, description: &'static str) -> ColumnDef {
    ColumnDef { name, ty, nulls, description }
}

/// Every table a snapshot holds, in the order they are documented and written.
pub const TABLE_DEFS: &[TableDef] = &[
    TableDef {
        name: "account",
        description: "the audit identity, the token's owner (one row)",
        columns: &[
            col("id", Str, Allowed, "account id"),
            col("email", Str, Never, "the account's email"),
            col("email_norm", Str, Never, "`email` trimmed and lower-cased"),
            col("name", Str, Allowed, "display name"),
            col("federated", Bool, Allowed, "signs in through an identity provider"),
            col("two_factor_authentication", Bool, Allowed, "2FA on; null when the API did not say"),
            col("last_login", Time, Allowed, "the only last-login Heroku exposes, and only for the caller"),
            col("created_at", Time, Allowed, "when the account was created"),
        ],
    },
    TableDef {
        name: "enterprise_accounts",
        description: "the enterprise accounts the audit identity can see",
        columns: &[
            col("id", Str, Never, "enterprise account id"),
            col("name", Str, Allowed, "enterprise account name"),
            col("caller_permissions", List, Never, "the audit identity's permissions in the account"),
            col("trial", Bool, Allowed, "a trial account"),
            col("identity_provider_id", Str, Allowed, "null without SSO or when the API gives no id"),
            col("created_at", Time, Allowed, "when the account was created"),
            col("updated_at", Time, Allowed, "when the account last changed"),
        ],
    },
    TableDef {
        name: "enterprise_members",
        description: "members of each enterprise account",
        columns: &[
            col("enterprise_account_id", Str, Never, "the enterprise account"),
            col("enterprise_account_name", Str, Allowed, "its name"),
            col("member_id", Str, Allowed, "membership id"),
            col("user_id", Str, Allowed, "the member's Heroku account id"),
            col("email", Str, Allowed, "the member's email"),
            col("email_norm", Str, Allowed, "`email` trimmed and lower-cased"),
            col("permissions", List, Never, "`view`, `create`, `manage`, `billing`"),
            col("two_factor_authentication", Bool, Allowed, "2FA on; null when the API did not say"),
            col("federated", Bool, Allowed, "has an identity provider; null when the API did not say"),
            col("identity_provider_id", Str, Allowed, "the member's identity provider"),
        ],
    },
    TableDef {
        name: "teams",
        description: "the caller's teams and every enterprise account's teams",
        columns: &[
            col("id", Str, Never, "team id"),
            col("name", Str, Allowed, "team name"),
            col("type", Str, Allowed, "`team` or `enterprise`"),
            col("enterprise_account_id", Str, Allowed, "null for a team outside any enterprise account"),
            col("enterprise_account_name", Str, Allowed, "the enterprise account's name"),
            col("identity_provider_id", Str, Allowed, "null when the team has no SSO"),
            col("caller_role", Str, Allowed, "the audit identity's role in the team"),
            col("membership_limit", F64, Allowed, "the team's seat limit"),
            col("default", Bool, Allowed, "the caller's default team"),
            col("created_at", Time, Allowed, "when the team was created"),
            col("updated_at", Time, Allowed, "when the team last changed"),
        ],
    },
    TableDef {
        name: "team_members",
        description: "members of each team",
        columns: &[
            col("team_id", Str, Never, "the team"),
            col("team_name", Str, Allowed, "its name"),
            col("enterprise_account_id", Str, Allowed, "the team's enterprise account"),
            col("member_id", Str, Allowed, "membership id"),
            col("user_id", Str, Allowed, "`user.id`; match people on it where both sides have one"),
            col("email", Str, Allowed, "the membership's email, else `user.email`"),
            col("email_norm", Str, Allowed, "`email` trimmed and lower-cased"),
            col("name", Str, Allowed, "the user's name"),
            col("role", Str, Allowed, "`admin`, `member`, `viewer`, `collaborator`"),
            col("federated", Bool, Allowed, "signs in through the team's identity provider"),
            col("two_factor_authentication", Bool, Allowed, "2FA on; null when the API did not say"),
            col("identity_provider_id", Str, Allowed, "the member's identity provider"),
            col("created_at", Time, Allowed, "when the membership began"),
            col("updated_at", Time, Allowed, "when the membership last changed"),
        ],
    },
    TableDef {
        name: "team_invitations",
        description: "pending invitations to each team",
        columns: &[
            col("id", Str, Allowed, "invitation id"),
            col("team_id", Str, Never, "the team"),
            col("team_name", Str, Allowed, "its name"),
            col("enterprise_account_id", Str, Allowed, "the team's enterprise account"),
            col("user_id", Str, Allowed, "the invited account's id"),
            col("email", Str, Allowed, "the invited email"),
            col("email_norm", Str, Allowed, "`email` trimmed and lower-cased"),
            col("role", Str, Allowed, "the role offered"),
            col("invited_by_email", Str, Allowed, "who sent the invitation"),
            col("created_at", Time, Allowed, "when it was sent"),
            col("updated_at", Time, Allowed, "when it last changed"),
        ],
    },
    TableDef {
        name: "identity_providers",
        description: "each team's SAML identity providers",
        columns: &[
            col("id", Str, Never, "identity provider id"),
            col("team_id", Str, Never, "the team"),
            col("team_name", Str, Allowed, "its name"),
            col("entity_id", Str, Allowed, "the provider's SAML entity id"),
            col("sso_target_url", Str, Allowed, "where sign-in is sent"),
            col("created_at", Time, Allowed, "when it was set up"),
            col("updated_at", Time, Allowed, "when it last changed"),
        ],
    },
    TableDef {
        name: "apps",
        description: "team apps and every app the token sees",
        columns: &[
            col("id", Str, Never, "app id"),
            col("name", Str, Allowed, "app name"),
            col("team_id", Str, Allowed, "null for a personal app"),
            col("team_name", Str, Allowed, "the team's name"),
            col("personal", Bool, Never, "owned by a user, outside Teams' controls"),
            col("owner_id", Str, Allowed, "the owner's account id"),
            col("owner_email", Str, Allowed, "team apps show `<team>@herokumanager.com`"),
            col("owner_email_norm", Str, Allowed, "`owner_email` trimmed and lower-cased"),
            col("locked", Bool, Allowed, "locked to team members with explicit permissions"),
            col("created_at", Time, Allowed, "when the app was created"),
            col("updated_at", Time, Allowed, "when the app last changed"),
            col("released_at", Time, Allowed, "its latest release"),
            col("activity_scanned", Bool, Never, "releases and builds were read"),
        ],
    },
    TableDef {
        name: "app_permissions",
        description: "direct grants on apps, one row per user and app",
        columns: &[
            col("app_id", Str, Never, "the app"),
            col("app_name", Str, Allowed, "its name"),
            col("team_id", Str, Allowed, "its team"),
            col("team_name", Str, Allowed, "the team's name"),
            col("user_id", Str, Allowed, "the grantee's account id"),
            col("email", Str, Allowed, "the grantee's email; null when the API gave only an id"),
            col("email_norm", Str, Allowed, "`email` trimmed and lower-cased"),
            col("permissions", List, Never, "`view`, `deploy`, `operate`, `manage`, in that order"),
            col("sources", List, Never, "`explicit`, `personal-collaborator`, `owner`"),
        ],
    },
    TableDef {
        name: "activity",
        description: "signals that a person used their access, inside the window",
        columns: &[
            col("id", Str, Never, "release, build or event id"),
            col("kind", Str, Never, "`release`, `build` or `audit`"),
            col("action", Str, Never, "`release.<status>`, `build.<status>` or `<type>.<action>`"),
            col("user_id", Str, Allowed, "who did it, by account id"),
            col("user_email", Str, Allowed, "who did it"),
            col("user_email_norm", Str, Allowed, "`user_email` trimmed and lower-cased"),
            col("app_id", Str, Allowed, "the app"),
            col("app_name", Str, Allowed, "its name"),
            col("team_id", Str, Allowed, "its team"),
            col("enterprise_account_id", Str, Allowed, "for audit events, the enterprise account"),
            col("at", Time, Never, "when"),
        ],
    },
    TableDef {
        name: "audit_events",
        description: "the Enterprise Audit Trail inside the window",
        columns: &[
            col("id", Str, Never, "event id"),
            col("enterprise_account_id", Str, Never, "the enterprise account"),
            col("enterprise_account_name", Str, Allowed, "its name"),
            col("created_at", Time, Never, "when it happened"),
            col("type", Str, Allowed, "event type"),
            col("action", Str, Allowed, "event action"),
            col("name", Str, Never, "`<type>.<action>`"),
            col("actor_id", Str, Allowed, "who acted, by account id"),
            col("actor_email", Str, Allowed, "who acted"),
            col("actor_email_norm", Str, Allowed, "`actor_email` trimmed and lower-cased"),
            col("app_id", Str, Allowed, "the app"),
            col("app_name", Str, Allowed, "its name"),
            col("team_id", Str, Allowed, "the team"),
            col("team_name", Str, Allowed, "its name"),
            col("owner_email", Str, Allowed, "the owner named by the event"),
            col("owner_email_norm", Str, Allowed, "`owner_email` trimmed and lower-cased"),
            col("target_email", Str, Allowed, "the person a membership event is about"),
            col("target_email_norm", Str, Allowed, "`target_email` trimmed and lower-cased"),
            col("request_ip", Str, Allowed, "where the request came from"),
            col("data", Str, Allowed, "the event's `data` object, as JSON text"),
        ],
    },
    TableDef {
        name: "authorizations",
        description: "OAuth authorizations",
        columns: &[
            col("id", Str, Never, "authorization id"),
            col("user_id", Str, Allowed, "the owner's account id"),
            col("user_email", Str, Allowed, "the owner's email"),
            col("user_email_norm", Str, Allowed, "`user_email` trimmed and lower-cased"),
            col("description", Str, Allowed, "what it was created for"),
            col("scopes", List, Never, "its OAuth scopes"),
            col("client_id", Str, Allowed, "the OAuth client"),
            col("client_name", Str, Allowed, "its name"),
            col("created_at", Time, Allowed, "when it was created"),
            col("updated_at", Time, Allowed, "when it last changed"),
            col("expires_at", Time, Allowed, "when it stops working; null = never"),
            col("source", Str, Never, "`api`, or `export:<file>` for rows added by `analyze --authorizations`"),
        ],
    },
];

const TABLE_COUNT: usize = TABLE_DEFS.len();

const TABLE_NAMES: [&str; TABLE_COUNT] = {
    let mut names = [""; TABLE_COUNT];
    let mut i = 0;
    while i < TABLE_COUNT {
        names[i] = TABLE_DEFS[i].name;
        i += 1;
    }
    names
};

/// Every table's name, in definition order.
pub const TABLES: &[&str] = &TABLE_NAMES;

/// The definition of a table, if a snapshot has it.
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLE_DEFS.iter().find(|t| t.name == name)
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&'static ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The table with no rows and every column.
    pub fn empty_frame(&self) -> Result<DataFrame, SnapshotError> {
        let none = std::iter::empty::<Option<String>>;
        let mut b = TableBuilder::new();
        for c in self.columns {
            b = match c.ty {
                Str => b.str(c.name, none()),
                Bool => b.bool(c.name, std::iter::empty()),
                F64 => b.f64(c.name, std::iter::empty()),
                Time => b.time(c.name, std::iter::empty()),
                List => b.list(c.name, std::iter::empty()),
            };
        }
        b.build(self.name)
    }

    /// A frame has exactly this table's columns, in order, with their types. Nullability is not
    /// checked here: test snapshots leave columns out on purpose (tests check it on real
    /// extracts).
    pub fn check(&self, df: &DataFrame) -> Result<(), SnapshotError> {
        let mismatch = |problem: String| SnapshotError::Schema { table: self.name.to_owned(), problem };
        let found = df.schema();
        let mut found = found.iter();
        for (i, c) in self.columns.iter().enumerate() {
            let Some((name, dtype)) = found.next() else {
                return Err(mismatch(format!("column {} `{}` is missing", i + 1, c.name)));
            };
            if name.as_str() != c.name {
                return Err(mismatch(format!("column {} is `{name}` where `{}` should be", i + 1, c.name)));
            }
            if *dtype != c.ty.dtype() {
                return Err(mismatch(format!("column `{}` is {dtype}, not {}", c.name, c.ty.dtype())));
            }
        }
        if let Some((name, _)) = found.next() {
            return Err(mismatch(format!("column `{name}` is not in the definition")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_columns_are_named_once() {
        let mut names: Vec<&str> = TABLES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE_DEFS.len(), "a table is defined twice");
        for t in TABLE_DEFS {
            let mut cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
            cols.sort_unstable();
            cols.dedup();
            assert_eq!(cols.len(), t.columns.len(), "{} defines a column twice", t.name);
        }
    }

    #[test]
    fn an_empty_frame_passes_its_own_check_and_a_reordered_one_does_not() {
        for t in TABLE_DEFS {
            let df = t.empty_frame().expect("builds");
            t.check(&df).expect("matches its definition");
        }
        let teams = table("teams").expect("teams is defined");
        let df = teams.empty_frame().expect("builds");
        let mut names: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
        names.swap(0, 1);
        let swapped = df.select(names).expect("select");
        let err = teams.check(&swapped).expect_err("column order is part of the format").to_string();
        assert!(err.contains("teams") && err.contains("`name` where `id` should be"), "{err}");
        let fewer = df.drop("default").expect("drop");
        let err = teams.check(&fewer).expect_err("a missing column is refused").to_string();
        assert!(err.contains("`created_at` where `default` should be"), "{err}");
    }

    #[test]
    fn a_wrongly_typed_column_is_named() {
        let apps = table("apps").expect("apps is defined");
        let mut df = apps.empty_frame().expect("builds");
        df.with_column(polars::prelude::Column::new("locked".into(), Vec::<Option<String>>::new())).expect("replace");
        let err = apps.check(&df).expect_err("str is not bool").to_string();
        assert!(err.contains("`locked` is str, not bool"), "{err}");
    }
}

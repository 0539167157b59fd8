//! The paths the sandbox answers, parsed once per request into a [`Route`] that carries its
//! parameters. Everything that depends on the endpoint (answering, access checks, quirks) matches
//! on the enum; the template string (`/teams/{team}/members`) exists only in
//! [`Route::template`], for the stats and for faults configured by template.
use std::mem::Discriminant;

use super::SandboxError;

/// Real archive URLs are pre-signed storage links on another host; this prefix stands in for it.
pub(crate) const ARCHIVE_PREFIX: &str = "__sandbox";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Account,
    RateLimits,
    EnterpriseAccounts,
    EnterpriseAccount {
        ea: String,
    },
    EnterpriseMembers {
        ea: String,
    },
    EnterpriseTeams {
        ea: String,
    },
    Archives {
        ea: String,
    },
    Archive {
        ea: String,
        year: String,
        month: String,
    },
    Events {
        ea: String,
    },
    Teams,
    /// `/teams/permissions`: the catalogue of team-app permissions.
    PermissionCatalogue,
    TeamAppCollaborators {
        app: String,
    },
    Team {
        team: String,
    },
    TeamMembers {
        team: String,
    },
    TeamInvitations {
        team: String,
    },
    TeamApps {
        team: String,
    },
    TeamPermissions {
        team: String,
    },
    TeamIdentityProviders {
        team: String,
    },
    TeamFeatures {
        team: String,
    },
    Apps,
    App {
        app: String,
    },
    AppCollaborators {
        app: String,
    },
    AppReleases {
        app: String,
    },
    AppBuilds {
        app: String,
    },
    Authorizations,
    /// An audit-trail archive's pre-signed download.
    ArchiveDownload {
        ea: String,
        file: String,
    },
}

impl Route {
    /// The route of a path's (percent-decoded) segments, if the sandbox serves it.
    pub(crate) fn parse(segments: &[String]) -> Option<Route> {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let own = |v: &&str| (*v).to_owned();
        // Literal segments come before parameters of the same length (`/teams/permissions`
        // before `/teams/{team}`), as on Heroku.
        Some(match s.as_slice() {
            ["account"] => Route::Account,
            ["account", "rate-limits"] => Route::RateLimits,
            ["enterprise-accounts"] => Route::EnterpriseAccounts,
            ["enterprise-accounts", ea] => Route::EnterpriseAccount { ea: own(ea) },
            ["enterprise-accounts", ea, "members"] => Route::EnterpriseMembers { ea: own(ea) },
            ["enterprise-accounts", ea, "teams"] => Route::EnterpriseTeams { ea: own(ea) },
            ["enterprise-accounts", ea, "archives"] => Route::Archives { ea: own(ea) },
            ["enterprise-accounts", ea, "archives", y, m] => {
                Route::Archive { ea: own(ea), year: own(y), month: own(m) }
            }
            ["enterprise-accounts", ea, "events"] => Route::Events { ea: own(ea) },
            ["teams"] => Route::Teams,
            ["teams", "permissions"] => Route::PermissionCatalogue,
            ["teams", "apps", app, "collaborators"] => Route::TeamAppCollaborators { app: own(app) },
            ["teams", team] => Route::Team { team: own(team) },
            ["teams", team, "members"] => Route::TeamMembers { team: own(team) },
            ["teams", team, "invitations"] => Route::TeamInvitations { team: own(team) },
            ["teams", team, "apps"] => Route::TeamApps { team: own(team) },
            ["teams", team, "permissions"] => Route::TeamPermissions { team: own(team) },
            ["teams", team, "identity-providers"] => Route::TeamIdentityProviders { team: own(team) },
            ["teams", team, "features"] => Route::TeamFeatures { team: own(team) },
            ["apps"] => Route::Apps,
            ["apps", app] => Route::App { app: own(app) },
            ["apps", app, "collaborators"] => Route::AppCollaborators { app: own(app) },
            ["apps", app, "releases"] => Route::AppReleases { app: own(app) },
            ["apps", app, "builds"] => Route::AppBuilds { app: own(app) },
            ["oauth", "authorizations"] => Route::Authorizations,
            [ARCHIVE_PREFIX, "archives", ea, file] => Route::ArchiveDownload { ea: own(ea), file: own(file) },
            _ => return None,
        })
    }

    /// The path template, as the stats count requests and as faults name an endpoint.
    pub(crate) fn template(&self) -> &'static str {
        match self {
            Route::Account => "/account",
            Route::RateLimits => "/account/rate-limits",
            Route::EnterpriseAccounts => "/enterprise-accounts",
            Route::EnterpriseAccount { .. } => "/enterprise-accounts/{ea}",
            Route::EnterpriseMembers { .. } => "/enterprise-accounts/{ea}/members",
            Route::EnterpriseTeams { .. } => "/enterprise-accounts/{ea}/teams",
            Route::Archives { .. } => "/enterprise-accounts/{ea}/archives",
            Route::Archive { .. } => "/enterprise-accounts/{ea}/archives/{year}/{month}",
            Route::Events { .. } => "/enterprise-accounts/{ea}/events",
            Route::Teams => "/teams",
            Route::PermissionCatalogue => "/teams/permissions",
            Route::TeamAppCollaborators { .. } => "/teams/apps/{app}/collaborators",
            Route::Team { .. } => "/teams/{team}",
            Route::TeamMembers { .. } => "/teams/{team}/members",
            Route::TeamInvitations { .. } => "/teams/{team}/invitations",
            Route::TeamApps { .. } => "/teams/{team}/apps",
            Route::TeamPermissions { .. } => "/teams/{team}/permissions",
            Route::TeamIdentityProviders { .. } => "/teams/{team}/identity-providers",
            Route::TeamFeatures { .. } => "/teams/{team}/features",
            Route::Apps => "/apps",
            Route::App { .. } => "/apps/{app}",
            Route::AppCollaborators { .. } => "/apps/{app}/collaborators",
            Route::AppReleases { .. } => "/apps/{app}/releases",
            Route::AppBuilds { .. } => "/apps/{app}/builds",
            Route::Authorizations => "/oauth/authorizations",
            Route::ArchiveDownload { .. } => "/__sandbox/archives/{ea}/{file}",
        }
    }

    /// Which endpoint, whatever its parameters: what a fault configured by template matches.
    pub(crate) fn kind(&self) -> Discriminant<Route> {
        std::mem::discriminant(self)
    }

    /// The endpoint a template names (`/teams/{team}/members`), for faults configured by
    /// template; anything else, a concrete path included, is refused.
    pub(crate) fn kind_of_template(template: &str) -> Result<Discriminant<Route>, SandboxError> {
        let route = Route::parse(&segments(template)).filter(|r| r.template() == template);
        route.map(|r| r.kind()).ok_or_else(|| {
            SandboxError::Config(format!(
                "`{template}` is not a route template the sandbox serves: write it as the stats name it, with \
                 placeholders and no method, e.g. `/teams/{{team}}/members` or `/enterprise-accounts/{{ea}}/archives`"
            ))
        })
    }

    /// A read under one team or app: what a token that lost its access can no longer make.
    pub(crate) fn under_team_or_app(&self) -> bool {
        matches!(
            self,
            Route::Team { .. }
                | Route::TeamMembers { .. }
                | Route::TeamInvitations { .. }
                | Route::TeamApps { .. }
                | Route::TeamPermissions { .. }
                | Route::TeamIdentityProviders { .. }
                | Route::TeamFeatures { .. }
                | Route::App { .. }
                | Route::AppCollaborators { .. }
                | Route::AppReleases { .. }
                | Route::AppBuilds { .. }
        )
    }
}

/// A path's segments, percent-decoded: what [`Route::parse`] reads.
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect()
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Option<Route> {
        Route::parse(&segments(path))
    }

    #[test]
    fn a_path_parses_once_into_its_route_and_parameters() {
        assert_eq!(route("/teams/acme/members"), Some(Route::TeamMembers { team: "acme".into() }));
        assert_eq!(route("/teams/permissions"), Some(Route::PermissionCatalogue));
        assert_eq!(route("/teams/apps"), Some(Route::Team { team: "apps".into() }));
        assert_eq!(
            route("/enterprise-accounts/ea%201/archives/2026/05"),
            Some(Route::Archive { ea: "ea 1".into(), year: "2026".into(), month: "05".into() })
        );
        assert_eq!(route("/teams/acme/members/extra"), None);
    }

    #[test]
    fn every_template_parses_back_to_its_own_route() {
        let paths = [
            "/account",
            "/account/rate-limits",
            "/enterprise-accounts/e/archives/2026/05",
            "/teams/permissions",
            "/teams/apps/a/collaborators",
            "/teams/t/identity-providers",
            "/apps/a/builds",
            "/oauth/authorizations",
            "/__sandbox/archives/e/2026-05.json.gz",
        ];
        for path in paths {
            let r = route(path).unwrap_or_else(|| panic!("{path} is served"));
            assert_eq!(Route::kind_of_template(r.template()).ok(), Some(r.kind()), "{path}");
        }
    }

    #[test]
    fn a_template_the_sandbox_does_not_serve_is_refused_with_an_example() {
        for bad in ["/teams/acme/members", "/teams/{team}/member", "GET /teams/{team}/members", ""] {
            let err = Route::kind_of_template(bad).expect_err(bad).to_string();
            assert!(
                err.contains(&format!("`{bad}` is not a route template")) && err.contains("/teams/{team}/members"),
                "{err}"
            );
        }
    }
}

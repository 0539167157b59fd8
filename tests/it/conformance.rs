//! Schema conformance: fixture objects (and, later, everything the sandbox serves) must have the
//! shapes of Heroku's published Platform API schema (`shared/heroku/platform-api-schema.json`).
//!
//! [`validate`] checks one value against `definitions.<name>` of that schema. The schema is read
//! once, adapted in [`load_schema`] (two documented changes, nothing else), and every definition's
//! validator is compiled once and kept in a `OnceLock`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};

/// Where the official schema lives: `shared/heroku/` beside the repository (`../shared/heroku/`
/// from the main checkout). Worktrees live one level deeper (`wt/<name>/`), so every ancestor of
/// `CARGO_MANIFEST_DIR` is tried, nearest first.
pub fn schema_path() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in manifest.ancestors().skip(1) {
        let candidate = dir.join("shared/heroku/platform-api-schema.json");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "the Heroku Platform API schema was not found: looked for shared/heroku/platform-api-schema.json \
         beside {} and in each of its parent folders (it is the read-only copy described in \
         shared/heroku/SOURCE.md)",
        manifest.display()
    );
}

/// The folder of the Acme fixture organisation.
pub fn acme_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acme")
}

/// The schema document as validated against: the published file with two adaptations.
///
/// 1. `strictProperties: true` (an interagent hyper-schema keyword that JSON Schema validators
///    do not know) means "no properties beyond `properties`"; it is translated to
///    `additionalProperties: false` wherever it appears with a `properties` list and no
///    `additionalProperties` of its own. This is the schema's own meaning, not a new constraint.
/// 2. **Named exception, `viewer`:** real Heroku returns team role `viewer` (the member
///    create/update body and Heroku's Terraform provider use it), but the published response enum
///    `definitions.team.definitions.role` omits it. Every role field (`team`, `team-member`,
///    `team-invitation`, `collaborator`, `team-app-collaborator`) refers to that one enum, so
///    `viewer` is added there and nowhere else.
///
/// The hyper-schema `$schema` URIs are dropped (the validator is told draft 4 explicitly).
pub fn load_schema() -> Value {
    let path = schema_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    adapt(&mut doc);
    let role_enum = doc
        .pointer_mut("/definitions/team/definitions/role/enum")
        .and_then(Value::as_array_mut)
        .expect("schema has definitions.team.definitions.role.enum");
    if !role_enum.iter().any(|v| v == "viewer") {
        role_enum.push(json!("viewer"));
    }
    doc
}

fn adapt(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("$schema");
            let strict = map.get("strictProperties") == Some(&Value::Bool(true));
            if strict && map.contains_key("properties") && !map.contains_key("additionalProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for child in map.values_mut() {
                adapt(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(adapt),
        _ => {}
    }
}

/// `format: uuid` is not a draft-4 built-in format; Heroku ids are canonical hyphenated UUIDs.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

struct Validators {
    by_name: HashMap<String, jsonschema::Validator>,
}

fn validators() -> &'static Validators {
    static CELL: OnceLock<Validators> = OnceLock::new();
    CELL.get_or_init(|| {
        let doc = load_schema();
        let names: Vec<String> = doc["definitions"]
            .as_object()
            .expect("schema has definitions")
            .keys()
            .cloned()
            .collect();
        let mut root = doc;
        let by_name = names
            .into_iter()
            .map(|name| {
                // Draft 4 ignores keywords beside `$ref`, so the root is the whole document (for
                // the `#/definitions/...` references to resolve) that validates as one definition.
                root["$ref"] = json!(format!("#/definitions/{name}"));
                let validator = jsonschema::draft4::options()
                    .should_validate_formats(true)
                    .with_format("uuid", is_uuid)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("schema definition {name} does not compile: {e}"));
                (name, validator)
            })
            .collect();
        Validators { by_name }
    })
}

/// Check `value` against `definitions.<definition>` of the Heroku Platform API schema.
///
/// Errors are `"<instance path>: <message>"` lines. Panics if the definition does not exist.
pub fn validate(definition: &str, value: &Value) -> Result<(), Vec<String>> {
    let validator = validators()
        .by_name
        .get(definition)
        .unwrap_or_else(|| panic!("the schema has no definition named {definition:?}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// The Acme fixture

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// Names of the team apps (apps with a non-null `team`) in `apps.json`.
fn team_app_names(acme: &Path) -> Vec<String> {
    read_json(&acme.join("apps.json"))
        .as_array()
        .expect("apps.json is an array")
        .iter()
        .filter(|app| !app["team"].is_null())
        .map(|app| app["name"].as_str().expect("app name").to_owned())
        .collect()
}

/// The definitions each object of a fixture file must satisfy (docs/fixtures.md), by its path
/// relative to the fixture folder. `None` for files that are not API objects.
fn definitions_for(rel: &str, object: &Value, team_apps: &[String]) -> Option<Vec<&'static str>> {
    let parts: Vec<&str> = rel.split('/').collect();
    let defs = match parts.as_slice() {
        ["sandbox.json"] => return None,
        ["accounts.json"] => vec!["account"],
        ["enterprise-accounts.json"] => vec!["enterprise-account"],
        ["enterprise-accounts", _, "members.json"] => vec!["enterprise-account-member"],
        ["enterprise-accounts", _, "events.json"] => vec!["audit-trail-event"],
        ["teams.json"] => vec!["team"],
        ["teams", _, "members.json"] => vec!["team-member"],
        ["teams", _, "invitations.json"] => vec!["team-invitation"],
        ["teams", _, "identity-providers.json"] => vec!["identity-provider"],
        ["teams", _, "features.json"] => vec!["team-feature"],
        ["apps.json"] if object["team"].is_null() => vec!["app"],
        ["apps.json"] => vec!["app", "team-app"],
        ["apps", app, "collaborators.json"] if team_apps.iter().any(|t| t == app) => {
            // Served both at /teams/apps/{app}/collaborators and /apps/{app}/collaborators.
            vec!["team-app-collaborator", "collaborator"]
        }
        ["apps", _, "collaborators.json"] => vec!["collaborator"],
        ["apps", _, "releases.json"] => vec!["release"],
        ["apps", _, "builds.json"] => vec!["build"],
        ["oauth-authorizations.json"] => vec!["oauth-authorization"],
        // `heroku authorizations --json` exports: the CLI prints the API's objects as they are.
        ["inputs", _] => vec!["oauth-authorization"],
        _ => panic!(
            "fixtures/acme/{rel}: not a file of docs/fixtures.md; classify it in conformance.rs"
        ),
    };
    Some(defs)
}

#[test]
fn every_acme_object_conforms_to_its_definition() {
    let acme = acme_dir();
    let team_apps = team_app_names(&acme);
    let mut files = Vec::new();
    json_files(&acme, &mut files);
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for path in &files {
        let rel = path
            .strip_prefix(&acme)
            .expect("under acme")
            .to_string_lossy()
            .replace('\\', "/");
        let value = read_json(path);
        if rel == "sandbox.json" {
            continue;
        }
        let items = value
            .as_array()
            .unwrap_or_else(|| panic!("fixtures/acme/{rel}: every resource file is a JSON array"));
        for (i, item) in items.iter().enumerate() {
            let Some(defs) = definitions_for(&rel, item, &team_apps) else {
                continue;
            };
            for def in defs {
                checked += 1;
                if let Err(errors) = validate(def, item) {
                    failures.push(format!(
                        "{rel}[{i}] as {def}:\n    {}",
                        errors.join("\n    ")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} non-conforming objects:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        checked > 300,
        "only {checked} objects checked: is fixtures/acme complete?"
    );
}

fn keys_sorted(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            if keys.windows(2).any(|w| w[0] > w[1]) {
                out.push(format!("{at}: keys not sorted"));
            }
            for (k, v) in map {
                keys_sorted(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                keys_sorted(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Diff-readable files: pretty-printed with two spaces, keys sorted, one trailing newline.
#[test]
fn acme_files_are_canonical_json() {
    let acme = acme_dir();
    let mut files = Vec::new();
    json_files(&acme, &mut files);
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        let rel = path
            .strip_prefix(&acme)
            .expect("under acme")
            .display()
            .to_string();
        keys_sorted(&value, &rel, &mut problems);
        let pretty = serde_json::to_string_pretty(&value).expect("serialise") + "\n";
        if pretty != text {
            problems.push(format!(
                "{rel}: not pretty-printed (2 spaces, trailing newline)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sandbox_json_has_the_documented_shape() {
    let sandbox = read_json(&acme_dir().join("sandbox.json"));
    assert_eq!(sandbox["now"], "2026-11-20T12:00:00Z");
    let tokens = sandbox["tokens"].as_array().expect("tokens is an array");
    assert!(!tokens.is_empty());
    let accounts = read_json(&acme_dir().join("accounts.json"));
    for token in tokens {
        let token_value = token["token"].as_str().expect("token is a string");
        assert!(
            token_value.contains("PLANTED-SECRET"),
            "tokens are greppable planted secrets"
        );
        let email = token["account"].as_str().expect("account is an email");
        assert!(
            accounts
                .as_array()
                .expect("array")
                .iter()
                .any(|a| a["email"] == email),
            "token account {email} has an entry in accounts.json"
        );
    }
}

#[test]
fn secrets_in_authorizations_are_planted_values() {
    let acme = acme_dir();
    let mut files = vec![acme.join("oauth-authorizations.json")];
    json_files(&acme.join("inputs"), &mut files);
    for path in files {
        for auth in read_json(&path).as_array().expect("array") {
            for pointer in ["/access_token/token", "/refresh_token/token", "/grant/code"] {
                if let Some(secret) = auth.pointer(pointer).filter(|v| !v.is_null()) {
                    let secret = secret.as_str().expect("secret is a string");
                    assert!(
                        secret.contains("PLANTED-SECRET"),
                        "{}: {pointer} = {secret:?} is not a planted secret",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn drifted_objects_are_rejected() {
    let team = json!({
        "id": "01234567-89ab-cdef-0123-456789abcdef",
        "name": "acme-platform",
        "created_at": "2024-01-01T12:00:00Z",
        "updated_at": "2024-01-01T12:00:00Z",
        "credit_card_collections": false,
        "default": false,
        "enterprise_account": null,
        "identity_provider": null,
        "membership_limit": null,
        "provisioned_licenses": false,
        "role": "admin",
        "type": "team"
    });
    assert_eq!(validate("team", &team), Ok(()));

    // Extra key on a strict resource.
    let mut extra = team.clone();
    extra["last_login"] = json!("2024-01-01T12:00:00Z");
    assert!(
        validate("team", &extra).is_err(),
        "extra key accepted on strict team"
    );
    // Extra key inside a strict nested object.
    let invitation = json!({
        "id": "01234567-89ab-cdef-0123-456789abcdef",
        "created_at": "2024-01-01T12:00:00Z",
        "updated_at": "2024-01-01T12:00:00Z",
        "role": "member",
        "team": {"id": "01234567-89ab-cdef-0123-456789abcdef", "name": "acme-platform"},
        "invited_by": {"id": "01234567-89ab-cdef-0123-456789abcdef", "email": "a@acme.example", "name": "A"},
        "user": {"id": "01234567-89ab-cdef-0123-456789abcdef", "email": "b@acme.example", "name": null}
    });
    assert_eq!(validate("team-invitation", &invitation), Ok(()));
    let mut nested = invitation.clone();
    nested["user"]["two_factor_authentication"] = json!(true);
    assert!(
        validate("team-invitation", &nested).is_err(),
        "extra nested key accepted"
    );
    // Wrong type.
    let mut wrong_type = team.clone();
    wrong_type["default"] = json!("false");
    assert!(
        validate("team", &wrong_type).is_err(),
        "string accepted for a boolean"
    );
    // Bad enum, and the one named exception.
    let mut bad_enum = team.clone();
    bad_enum["role"] = json!("superuser");
    assert!(
        validate("team", &bad_enum).is_err(),
        "role superuser accepted"
    );
    let mut viewer = team.clone();
    viewer["role"] = json!("viewer");
    assert_eq!(
        validate("team", &viewer),
        Ok(()),
        "viewer is the named exception"
    );
    let mut bad_type = team.clone();
    bad_type["type"] = json!("personal");
    assert!(
        validate("team", &bad_type).is_err(),
        "team type personal accepted"
    );
    // Formats: ids are UUIDs, timestamps are date-times.
    let mut bad_id = team.clone();
    bad_id["id"] = json!("team-1");
    assert!(validate("team", &bad_id).is_err(), "non-UUID id accepted");
    let mut bad_date = team.clone();
    bad_date["created_at"] = json!("yesterday");
    assert!(
        validate("team", &bad_date).is_err(),
        "non-date-time accepted"
    );
    // `required` (team-member) and patterns (app name).
    let member = json!({
        "created_at": "2024-01-01T12:00:00Z",
        "updated_at": "2024-01-01T12:00:00Z",
        "email": "a@acme.example",
        "federated": false,
        "role": "viewer"
    });
    assert_eq!(validate("team-member", &member), Ok(()));
    let mut missing = member.clone();
    missing.as_object_mut().expect("object").remove("federated");
    assert!(
        validate("team-member", &missing).is_err(),
        "missing required key accepted"
    );
    let app =
        json!({"id": "01234567-89ab-cdef-0123-456789abcdef", "name": "<script>alert(1)</script>"});
    assert!(
        validate("app", &app).is_err(),
        "app name outside the pattern accepted"
    );
    // The error text says where.
    let errors = validate("team", &wrong_type).expect_err("invalid");
    assert!(errors.iter().any(|e| e.contains("/default")), "{errors:?}");
}

/// The real header rows of each identity-provider export (see shared/heroku/NOTES.md).
const OKTA_HEADER: &[&str] = &[
    "User",
    "Login",
    "Status",
    "Activation date",
    "Authentication Source",
    "Last Login",
    "Last Password Change",
];
const ENTRA_HEADER: &[&str] = &[
    "userPrincipalName",
    "displayName",
    "surname",
    "mail",
    "givenName",
    "objectId",
    "userType",
    "jobTitle",
    "department",
    "accountEnabled",
    "usageLocation",
    "streetAddress",
    "state",
    "country",
    "physicalDeliveryOfficeName",
    "city",
    "postalCode",
    "telephoneNumber",
    "mobile",
    "authenticationPhoneNumber",
    "authenticationAlternativePhoneNumber",
    "authenticationEmail",
    "alternateEmailAddress",
    "ageGroup",
    "consentProvidedForMinor",
    "legalAgeGroupClassification",
];
const GOOGLE_HEADER: &[&str] = &[
    "First Name [Required]",
    "Last Name [Required]",
    "Email Address [Required]",
    "Password [Required]",
    "Password Hash Function [UPLOAD ONLY]",
    "Org Unit Path [Required]",
    "New Primary Email [UPLOAD ONLY]",
    "Status [READ ONLY]",
    "Last Sign In [READ ONLY]",
    "Recovery Email",
    "Home Secondary Email",
    "Work Secondary Email",
    "Recovery Phone [MUST BE IN THE E.164 FORMAT]",
    "Work Phone",
    "Home Phone",
    "Mobile Phone",
    "Work Address",
    "Home Address",
    "Employee ID",
    "Employee Type",
    "Employee Title",
    "Manager Email",
    "Department",
    "Cost Center",
    "2sv Enrolled [READ ONLY]",
    "2sv Enforced [READ ONLY]",
    "Building ID",
    "Floor Name",
    "Floor Section",
    "Email Usage [READ ONLY]",
    "Drive Usage [READ ONLY]",
    "Total Storage [READ ONLY]",
    "Change Password at Next Sign-In",
    "New Status [UPLOAD ONLY]",
];

#[test]
fn idp_exports_have_their_real_headers() {
    let inputs = acme_dir().join("inputs");
    for (file, header) in [
        ("okta-users.csv", OKTA_HEADER),
        ("entra-users.csv", ENTRA_HEADER),
        ("google-workspace-users.csv", GOOGLE_HEADER),
    ] {
        let path = inputs.join(file);
        let mut reader = csv::Reader::from_path(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let found: Vec<String> = reader
            .headers()
            .expect("header row")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(found, header, "{file}: header");
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{file}: bad row: {e}"));
            assert_eq!(record.len(), header.len(), "{file}: row width");
            rows += 1;
        }
        assert!(rows >= 30, "{file}: only {rows} users");
    }
}

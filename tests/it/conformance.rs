//! Schema conformance: fixture objects (and, later, everything the sandbox serves) must have the
//! shapes of Heroku's published Platform API schema (`fixtures/heroku-schema/platform-api-schema.json`).
//!
//! [`validate`] checks one value against `definitions.<name>` of that schema. The schema is read
//! once, adapted in [`load_schema`] (two documented changes, nothing else), and every definition's
//! validator is compiled once and kept in a `OnceLock`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};

/// The official schema, kept in the repository with its provenance and licence
/// (`fixtures/heroku-schema/SOURCE.md`), so a clone with nothing beside it runs this test.
pub fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/heroku-schema/platform-api-schema.json")
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
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
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
            if strict && map.contains_key("properties") && !map.contains_key("additionalProperties") {
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
        let names: Vec<String> =
            doc["definitions"].as_object().expect("schema has definitions").keys().cloned().collect();
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
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// The Acme fixture

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
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
        // Identity-provider sign-in logs: not Platform API objects.
        ["inputs", "signins", _] => return None,
        _ => panic!("fixtures/acme/{rel}: not a file of docs/fixtures.md; classify it in conformance.rs"),
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
        let rel = path.strip_prefix(&acme).expect("under acme").to_string_lossy().replace('\\', "/");
        let value = read_json(path);
        if rel == "sandbox.json" {
            continue;
        }
        let items =
            value.as_array().unwrap_or_else(|| panic!("fixtures/acme/{rel}: every resource file is a JSON array"));
        for (i, item) in items.iter().enumerate() {
            let Some(defs) = definitions_for(&rel, item, &team_apps) else {
                continue;
            };
            for def in defs {
                checked += 1;
                if let Err(errors) = validate(def, item) {
                    failures.push(format!("{rel}[{i}] as {def}:\n    {}", errors.join("\n    ")));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} non-conforming objects:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 300, "only {checked} objects checked: is fixtures/acme complete?");
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
        let rel = path.strip_prefix(&acme).expect("under acme").display().to_string();
        keys_sorted(&value, &rel, &mut problems);
        let pretty = serde_json::to_string_pretty(&value).expect("serialise") + "\n";
        if pretty != text {
            problems.push(format!("{rel}: not pretty-printed (2 spaces, trailing newline)"));
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
        assert!(token_value.contains("PLANTED-SECRET"), "tokens are greppable planted secrets");
        let email = token["account"].as_str().expect("account is an email");
        assert!(
            accounts.as_array().expect("array").iter().any(|a| a["email"] == email),
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
    assert!(validate("team", &extra).is_err(), "extra key accepted on strict team");
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
    assert!(validate("team-invitation", &nested).is_err(), "extra nested key accepted");
    // Wrong type.
    let mut wrong_type = team.clone();
    wrong_type["default"] = json!("false");
    assert!(validate("team", &wrong_type).is_err(), "string accepted for a boolean");
    // Bad enum, and the one named exception.
    let mut bad_enum = team.clone();
    bad_enum["role"] = json!("superuser");
    assert!(validate("team", &bad_enum).is_err(), "role superuser accepted");
    let mut viewer = team.clone();
    viewer["role"] = json!("viewer");
    assert_eq!(validate("team", &viewer), Ok(()), "viewer is the named exception");
    let mut bad_type = team.clone();
    bad_type["type"] = json!("personal");
    assert!(validate("team", &bad_type).is_err(), "team type personal accepted");
    // Formats: ids are UUIDs, timestamps are date-times.
    let mut bad_id = team.clone();
    bad_id["id"] = json!("team-1");
    assert!(validate("team", &bad_id).is_err(), "non-UUID id accepted");
    let mut bad_date = team.clone();
    bad_date["created_at"] = json!("yesterday");
    assert!(validate("team", &bad_date).is_err(), "non-date-time accepted");
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
    assert!(validate("team-member", &missing).is_err(), "missing required key accepted");
    let app = json!({"id": "01234567-89ab-cdef-0123-456789abcdef", "name": "<script>alert(1)</script>"});
    assert!(validate("app", &app).is_err(), "app name outside the pattern accepted");
    // The error text says where.
    let errors = validate("team", &wrong_type).expect_err("invalid");
    assert!(errors.iter().any(|e| e.contains("/default")), "{errors:?}");
}

/// The real header rows of each identity-provider export (as the vendors document them).
const OKTA_HEADER: &[&str] =
    &["User", "Login", "Status", "Activation date", "Authentication Source", "Last Login", "Last Password Change"];
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
        let mut reader =
            csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let found: Vec<String> = reader.headers().expect("header row").iter().map(str::to_owned).collect();
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

// ---------------------------------------------------------------------------------------------
// What the sandbox serves

/// The fixture's files as the sandbox must serve them, counted independently of the sandbox's
/// own loader, so an endpoint that answers fewer objects than the fixture holds is caught.
struct Acme {
    dir: PathBuf,
    token: String,
    caller: String,
    now: chrono::DateTime<chrono::Utc>,
}

impl Acme {
    fn load() -> Acme {
        let dir = acme_dir();
        let sandbox = read_json(&dir.join("sandbox.json"));
        let token = &sandbox["tokens"][0];
        Acme {
            token: token["token"].as_str().expect("token").to_owned(),
            caller: token["account"].as_str().expect("account").to_owned(),
            now: sandbox["now"].as_str().and_then(|t| t.parse().ok()).expect("sandbox.json now"),
            dir,
        }
    }

    /// The array in `rel`, or an empty one when the file does not exist (as the sandbox does).
    fn list(&self, rel: &str) -> Vec<Value> {
        let path = self.dir.join(rel);
        if !path.exists() {
            return Vec::new();
        }
        read_json(&path).as_array().expect("array").clone()
    }
}

fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} of {value}"))
}

/// A crawl over real HTTP: every object validated, every shortfall and violation collected.
struct Crawl {
    base: String,
    token: String,
    client: reqwest::Client,
    violations: Vec<String>,
    validated: usize,
}

struct Got {
    status: u16,
    next_range: Option<String>,
    body: Value,
}

impl Crawl {
    async fn send(&self, path: &str, accept: Option<&str>, range: Option<&str>) -> Got {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        if let Some(range) = range {
            request = request.header("Range", range);
        }
        let response = request.bearer_auth(&self.token).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let next_range = response.headers().get("next-range").map(|v| v.to_str().expect("ascii").to_owned());
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("GET {path}: {status} body is not JSON ({e}): {}", String::from_utf8_lossy(&bytes))
        });
        Got { status, next_range, body }
    }

    fn check(&mut self, what: &str, definitions: &[&str], value: &Value) {
        for definition in definitions {
            self.validated += 1;
            if let Err(errors) = validate(definition, value) {
                let label = value.get("id").or_else(|| value.get("name")).map_or_else(String::new, |v| format!(" {v}"));
                self.violations.push(format!("{what}{label} as {definition}:\n    {}", errors.join("\n    ")));
            }
        }
    }

    /// One object (`200`), validated; `Value::Null` if it was not served.
    async fn object(&mut self, path: &str, definitions: &[&str]) -> Value {
        let got = self.send(path, Some(ACCEPT_V3), None).await;
        if got.status != 200 || !got.body.is_object() {
            self.violations.push(format!("GET {path}: expected 200 and an object, got {} {}", got.status, got.body));
            return Value::Null;
        }
        self.check(&format!("GET {path}"), definitions, &got.body);
        got.body
    }

    /// A list followed through `Next-Range` with `range` as the first page, every item validated;
    /// `expected` is how many objects the fixture holds for it.
    async fn list(
        &mut self,
        path: &str,
        accept: &str,
        range: Option<&str>,
        definitions: &[&str],
        expected: usize,
    ) -> Vec<Value> {
        let mut items: Vec<Value> = Vec::new();
        let mut range = range.map(str::to_owned);
        let mut pages = 0;
        loop {
            pages += 1;
            let got = self.send(path, Some(accept), range.as_deref()).await;
            let Some(page) = got.body.as_array().filter(|_| matches!(got.status, 200 | 206)) else {
                self.violations.push(format!(
                    "GET {path} (Range {range:?}): expected 200/206 and an array, got {} {}",
                    got.status, got.body
                ));
                return items;
            };
            for item in page {
                self.check(&format!("GET {path}"), definitions, item);
            }
            items.extend(page.iter().cloned());
            match got.next_range {
                Some(next) if got.status == 206 && Some(&next) != range.as_ref() && pages < 500 => range = Some(next),
                Some(next) => {
                    self.violations.push(format!(
                        "GET {path}: page {pages} answered {} with Next-Range {next:?} after Range {range:?}",
                        got.status
                    ));
                    return items;
                }
                None if got.status == 206 => {
                    self.violations.push(format!("GET {path}: 206 without Next-Range"));
                    return items;
                }
                None => break,
            }
        }
        if items.is_empty() && expected > 0 {
            self.violations.push(format!("GET {path}: served NO objects where the fixture has {expected}"));
        } else if items.len() != expected {
            self.violations.push(format!(
                "GET {path}: served {} objects over {pages} pages, the fixture has {expected}",
                items.len()
            ));
        }
        let mut ids: Vec<&Value> = items.iter().filter_map(|i| i.get("id")).collect();
        let all = ids.len();
        ids.sort_by_key(|v| v.to_string());
        ids.dedup();
        if ids.len() != all {
            self.violations.push(format!("GET {path}: {} objects served twice across pages", all - ids.len()));
        }
        items
    }

    /// An error answer: the status, and a body of exactly `{id, message, url}` strings.
    async fn error(&mut self, what: &str, got: Got, status: u16, id: &str) {
        let keys: Vec<&str> = got.body.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        let strings = ["id", "message", "url"].iter().all(|k| got.body[k].as_str().is_some_and(|s| !s.is_empty()));
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        if got.status != status || got.body["id"] != id || sorted != ["id", "message", "url"] || !strings {
            self.violations.push(format!(
                "{what}: expected {status} {{id: {id:?}, message, url}}, got {} {}",
                got.status, got.body
            ));
        }
        self.validated += 1;
    }
}

const ACCEPT_V3: &str = "application/vnd.heroku+json; version=3";
const ACCEPT_INVITATIONS: &str = "application/vnd.heroku+json; version=3.team-invitations";

fn gunzip(bytes: &[u8]) -> Value {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).expect("archive is gzip");
    serde_json::from_str(&text).expect("archive is JSON")
}

/// The route templates `Route::template` names, read from the sandbox's source, so a new
/// endpoint that this crawl does not visit fails the test instead of going unchecked.
fn served_templates() -> Vec<String> {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sandbox/route.rs")).expect("route.rs");
    let start = source.find("fn template(&self)").expect("Route::template");
    let end = start + source[start..].find("\n    }\n").expect("its end");
    let mut templates: Vec<String> = source[start..end]
        .match_indices("=> \"/")
        .map(|(i, _)| {
            let rest = &source[start + i + 4..];
            rest[..rest.find('"').expect("closing quote")].to_owned()
        })
        .collect();
    templates.sort();
    templates.dedup();
    assert!(templates.len() >= 20, "read only {} route templates from route.rs: {templates:?}", templates.len());
    templates
}

/// Everything the sandbox serves over `fixtures/acme`, crawled over HTTP with small pages, has
/// the shape of its schema definition; lists hold exactly what the fixture holds; errors are
/// `{id, message, url}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_the_sandbox_serves_conforms() {
    use hkaudit::sandbox::{self, Fixture, RateLimitConfig, SandboxConfig};

    let acme = Acme::load();
    let fixture = Fixture::load(&acme.dir).expect("fixtures/acme loads");
    let handle = sandbox::start(SandboxConfig::new(fixture)).await.expect("sandbox starts");
    let mut c = Crawl {
        base: handle.url(),
        token: acme.token.clone(),
        client: reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("client"),
        violations: Vec::new(),
        validated: 0,
    };
    // The objects the sandbox must serve at least once, from the files alone.
    let mut floor = 0usize;

    // Account.
    let account = c.object("/account", &["account"]).await;
    if account["email"] != acme.caller.as_str() {
        c.violations.push(format!("/account is {} not the token's owner", account["email"]));
    }
    c.object("/account/rate-limits", &["rate-limit"]).await;
    floor += 2;

    // Enterprise accounts, their members, teams, archives and events.
    let eas = acme.list("enterprise-accounts.json");
    floor += eas.len() * 3;
    let teams = acme.list("teams.json");
    c.list("/enterprise-accounts", ACCEPT_V3, Some("id ..; max=1"), &["enterprise-account"], eas.len()).await;
    for ea in &eas {
        let (id, name) = (str_of(ea, "id"), str_of(ea, "name"));
        c.object(&format!("/enterprise-accounts/{id}"), &["enterprise-account"]).await;
        c.object(&format!("/enterprise-accounts/{name}"), &["enterprise-account"]).await;
        let members = acme.list(&format!("enterprise-accounts/{name}/members.json"));
        floor += members.len();
        c.list(
            &format!("/enterprise-accounts/{id}/members"),
            ACCEPT_V3,
            Some("id ..; max=4"),
            &["enterprise-account-member"],
            members.len(),
        )
        .await;
        let ea_teams = teams.iter().filter(|t| t["enterprise_account"]["id"] == ea["id"]).count();
        floor += ea_teams;
        c.list(&format!("/enterprise-accounts/{name}/teams"), ACCEPT_V3, Some("name ..; max=2"), &["team"], ea_teams)
            .await;

        let events = acme.list(&format!("enterprise-accounts/{name}/events.json"));
        let midnight = acme.now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let archived = events
            .iter()
            .filter(|e| str_of(e, "created_at").parse::<chrono::DateTime<chrono::Utc>>().is_ok_and(|t| t < midnight))
            .count();
        floor += archived + events.len();
        let got = c.send(&format!("/enterprise-accounts/{id}/archives"), Some(ACCEPT_V3), None).await;
        let archives = got.body.as_array().cloned().unwrap_or_default();
        if got.status != 200 || (archives.is_empty() && !events.is_empty()) {
            c.violations.push(format!(
                "GET /enterprise-accounts/{id}/archives: {} with {} archives for {} events",
                got.status,
                archives.len(),
                events.len()
            ));
        }
        let mut entries = 0;
        for archive in &archives {
            c.check("GET .../archives", &["archive"], archive);
            let (year, month) = (&archive["year"], str_of(archive, "month"));
            let one = c.object(&format!("/enterprise-accounts/{name}/archives/{year}/{month}"), &["archive"]).await;
            if &one != archive {
                c.violations.push(format!("archive {year}/{month} differs from its list entry"));
            }
            let download = c.client.get(str_of(archive, "url")).send().await.expect("archive download");
            let bytes = download.bytes().await.expect("archive bytes");
            if hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)) != str_of(archive, "checksum") {
                c.violations.push(format!("archive {year}/{month}: checksum mismatch"));
            }
            let content = gunzip(&bytes);
            let list = content["entries"].as_array().cloned().unwrap_or_default();
            for entry in &list {
                c.check(&format!("archive {year}/{month} entry"), &["audit-trail-event"], entry);
            }
            entries += list.len();
        }
        if entries != archived {
            c.violations
                .push(format!("archives of {name} hold {entries} events, the fixture has {archived} before today"));
        }
        let mut days: Vec<&str> = events.iter().map(|e| &str_of(e, "created_at")[..10]).collect();
        days.sort_unstable();
        days.dedup();
        if days.is_empty() {
            c.violations.push(format!("{name}: the fixture has no events to crawl"));
        }
        for day in days {
            let on_day = events.iter().filter(|e| str_of(e, "created_at").starts_with(day)).count();
            c.list(
                &format!("/enterprise-accounts/{id}/events?day={day}"),
                ACCEPT_V3,
                // By `id`: several events share a `created_at`, and an exclusive `]<last>` start
                // on a non-unique field skips the rest of a tie (Heroku's protocol, not a bug).
                Some("id ..; max=1"),
                &["audit-trail-event"],
                on_day,
            )
            .await;
        }
    }

    // Teams and what hangs off them.
    let apps = acme.list("apps.json");
    floor += teams.len() * 3;
    c.list("/teams", ACCEPT_V3, Some("id ..; max=2"), &["team"], teams.len()).await;
    for team in &teams {
        let (id, name) = (str_of(team, "id"), str_of(team, "name"));
        c.object(&format!("/teams/{id}"), &["team"]).await;
        c.object(&format!("/teams/{name}"), &["team"]).await;
        let members = acme.list(&format!("teams/{name}/members.json"));
        let invitations = acme.list(&format!("teams/{name}/invitations.json"));
        let idps = acme.list(&format!("teams/{name}/identity-providers.json"));
        let features = acme.list(&format!("teams/{name}/features.json"));
        let team_apps = apps.iter().filter(|a| a["team"]["name"] == name).count();
        floor += members.len() * 2 + invitations.len() * 2 + idps.len() + features.len() + team_apps * 2;
        c.list(&format!("/teams/{id}/members"), ACCEPT_V3, Some("email ..; max=3"), &["team-member"], members.len())
            .await;
        c.list(&format!("/teams/{name}/members"), ACCEPT_V3, None, &["team-member"], members.len()).await;
        for accept in [ACCEPT_V3, ACCEPT_INVITATIONS] {
            c.list(
                &format!("/teams/{name}/invitations"),
                accept,
                Some("id ..; max=1"),
                &["team-invitation"],
                invitations.len(),
            )
            .await;
        }
        c.list(&format!("/teams/{name}/identity-providers"), ACCEPT_V3, None, &["identity-provider"], idps.len()).await;
        c.list(&format!("/teams/{name}/features"), ACCEPT_V3, None, &["team-feature"], features.len()).await;
        c.list(&format!("/teams/{name}/apps"), ACCEPT_V3, Some("name ..; max=2"), &["team-app"], team_apps).await;
        let entities = c
            .list(
                &format!("/teams/{id}/permissions"),
                ACCEPT_V3,
                Some("id ..; max=2"),
                &["permission-entity"],
                team_apps,
            )
            .await;
        for entity in &entities {
            let app = str_of(entity, "name");
            let grants = acme.list(&format!("apps/{app}/collaborators.json")).len();
            let users = entity["users"].as_array().map_or(0, Vec::len);
            if users != grants {
                c.violations
                    .push(format!("/teams/{id}/permissions: {app} lists {users} users, the fixture grants {grants}"));
            }
        }
    }
    let got = c.send("/teams/permissions", Some(ACCEPT_V3), None).await;
    let permissions = got.body.as_array().cloned().unwrap_or_default();
    if got.status != 200 || permissions.len() != 4 {
        c.violations.push(format!("GET /teams/permissions: {} {}", got.status, got.body));
    }
    for permission in &permissions {
        c.check("GET /teams/permissions", &["team-app-permission"], permission);
    }
    floor += 4;

    // Apps: everything an app has, by id and by name.
    floor += apps.len() * 3;
    c.list("/apps", ACCEPT_V3, Some("id ..; max=4"), &["app"], apps.len()).await;
    c.list("/apps", ACCEPT_V3, Some("updated_at ..; max=7, order=desc"), &["app"], apps.len()).await;
    for app in &apps {
        let (id, name) = (str_of(app, "id"), str_of(app, "name"));
        c.object(&format!("/apps/{id}"), &["app"]).await;
        c.object(&format!("/apps/{name}"), &["app"]).await;
        let collaborators = acme.list(&format!("apps/{name}/collaborators.json"));
        let releases = acme.list(&format!("apps/{name}/releases.json"));
        let builds = acme.list(&format!("apps/{name}/builds.json"));
        floor += collaborators.len() + releases.len() * 2 + builds.len();
        c.list(
            &format!("/apps/{id}/collaborators"),
            ACCEPT_V3,
            Some("id ..; max=1"),
            &["collaborator"],
            collaborators.len(),
        )
        .await;
        if app["team"].is_null() {
            let got = c.send(&format!("/teams/apps/{name}/collaborators"), Some(ACCEPT_V3), None).await;
            c.error(&format!("/teams/apps/{name}/collaborators (personal app)"), got, 404, "not_found").await;
        } else {
            floor += collaborators.len();
            c.list(
                &format!("/teams/apps/{name}/collaborators"),
                ACCEPT_V3,
                Some("id ..; max=1"),
                &["team-app-collaborator"],
                collaborators.len(),
            )
            .await;
        }
        c.list(&format!("/apps/{name}/releases"), ACCEPT_V3, Some("id ..; max=3"), &["release"], releases.len()).await;
        c.list(
            &format!("/apps/{id}/releases"),
            ACCEPT_V3,
            Some("version ..; max=4, order=desc"),
            &["release"],
            releases.len(),
        )
        .await;
        c.list(&format!("/apps/{name}/builds"), ACCEPT_V3, Some("started_at ..; max=3"), &["build"], builds.len())
            .await;
    }

    // OAuth: the caller's own only.
    let mine =
        acme.list("oauth-authorizations.json").iter().filter(|a| a["user"]["email"] == acme.caller.as_str()).count();
    floor += mine;
    c.list("/oauth/authorizations", ACCEPT_V3, Some("id ..; max=1"), &["oauth-authorization"], mine).await;

    // Errors.
    let got = c.send("/teams/no-such-team", Some(ACCEPT_V3), None).await;
    c.error("unknown team", got, 404, "not_found").await;
    let got = c.send("/no/such/endpoint", Some(ACCEPT_V3), None).await;
    c.error("unknown endpoint", got, 404, "not_found").await;
    let got = c.send("/teams", None, None).await;
    c.error("no Accept", got, 406, "not_acceptable").await;
    let got = c.send("/teams", Some(ACCEPT_V3), Some("id ..; max=banana")).await;
    c.error("bad Range", got, 400, "bad_request").await;
    let got = c.send("/teams", Some(ACCEPT_V3), Some("created_at ..; max=2")).await;
    c.error("Range on an unsortable field", got, 400, "bad_request").await;
    let got = c.send("/enterprise-accounts/acme/events", Some(ACCEPT_V3), None).await;
    c.error("events without day", got, 422, "invalid_params").await;
    let unauthorized = Crawl {
        token: "not-a-token".into(),
        base: c.base.clone(),
        client: c.client.clone(),
        violations: Vec::new(),
        validated: 0,
    };
    let got = unauthorized.send("/teams", Some(ACCEPT_V3), None).await;
    c.error("bad token", got, 401, "unauthorized").await;
    let response = c
        .client
        .post(format!("{}/teams", c.base))
        .header("Accept", ACCEPT_V3)
        .bearer_auth(&c.token)
        .body("{}")
        .send()
        .await
        .expect("POST answered");
    let status = response.status().as_u16();
    let body = response.json().await.expect("405 body is JSON");
    c.error("POST", Got { status, next_range: None, body }, 405, "method_not_allowed").await;
    floor += 8;

    // 429 and 403 need their own sandboxes: a one-token pool, and a forbidden team.
    let mut config = SandboxConfig::new(Fixture::load(&acme.dir).expect("fixture"));
    config.rate_limit = RateLimitConfig { capacity: 1, refill_per_minute: 0.0 };
    config.faults.forbid_team = vec!["acme-web".into()];
    let limited = sandbox::start(config).await.expect("second sandbox");
    let other = Crawl { base: limited.url(), token: acme.token.clone(), ..unauthorized };
    let first = other.send("/teams/acme-web/members", Some(ACCEPT_V3), None).await;
    c.error("forbidden team", first, 403, "forbidden").await;
    let second = other.send("/teams", Some(ACCEPT_V3), None).await;
    c.error("empty rate-limit pool", second, 429, "rate_limit").await;
    floor += 2;

    // Every route the sandbox knows was crawled and answered 2xx at least once.
    let stats = handle.stats();
    for template in served_templates() {
        let hit = stats.endpoint(&format!("GET {template}"));
        if hit.status.ok + hit.status.partial == 0 {
            c.violations
                .push(format!("GET {template} is served by the sandbox but this crawl never got a 2xx from it"));
        }
    }
    handle.shutdown().await;

    assert!(
        c.violations.is_empty(),
        "{} violations in what the sandbox serves:\n{}",
        c.violations.len(),
        c.violations.join("\n")
    );
    assert!(floor > 600, "only {floor} objects expected: is fixtures/acme complete?");
    assert!(c.validated >= floor, "validated {} objects, fewer than the {floor} the fixture implies", c.validated);
}

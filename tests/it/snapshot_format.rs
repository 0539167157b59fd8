//! The snapshot format has one definition (`src/snapshot/schema.rs`); `docs/snapshot.md` is its
//! reader's copy, and the acme extract is what it promises.
use hkaudit::snapshot::schema::{Nulls, TABLE_DEFS};
use hkaudit::snapshot::{Snapshot, SnapshotWriter, TableBuilder};

use crate::snapshots_kit::{acme_snapshot, repo};

/// The tables of `docs/snapshot.md`'s "Tables" section: each `### \`name\`` heading and, from
/// the table under it, every (column, type) in order. A row may name several columns of one
/// type (`id, email, email_norm, name | str`).
fn documented_tables(doc: &str) -> Vec<(String, Vec<(String, String)>)> {
    let section = doc.split_once("\n## Tables\n").map_or("", |(_, rest)| rest);
    let mut tables: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in section.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            let name = heading.split('`').next().unwrap_or_default();
            tables.push((name.to_owned(), Vec::new()));
            continue;
        }
        let Some((_, columns)) = tables.last_mut() else { continue };
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if !line.trim_start().starts_with('|') || cells.len() < 2 || cells[0] == "column" || cells[0].starts_with("---")
        {
            continue;
        }
        for name in cells[0].split(',') {
            columns.push((name.trim().to_owned(), cells[1].to_owned()));
        }
    }
    tables
}

/// Every difference between the doc and the definitions, each naming its table and column.
fn drift(doc: &str) -> Vec<String> {
    let documented = documented_tables(doc);
    let mut problems = Vec::new();
    let doc_names: Vec<&str> = documented.iter().map(|(t, _)| t.as_str()).collect();
    let def_names: Vec<&str> = TABLE_DEFS.iter().map(|t| t.name).collect();
    for t in &def_names {
        if !doc_names.contains(t) {
            problems.push(format!("table `{t}` is defined but has no section in docs/snapshot.md"));
        }
    }
    for t in &doc_names {
        if !def_names.contains(t) {
            problems.push(format!("table `{t}` is documented but not defined in src/snapshot/schema.rs"));
        }
    }
    if problems.is_empty() && doc_names != def_names {
        problems.push(format!("tables are documented in the order {doc_names:?}, defined in the order {def_names:?}"));
    }
    for (table, columns) in &documented {
        let Some(def) = TABLE_DEFS.iter().find(|d| d.name == table) else { continue };
        let defined: Vec<(&str, &str)> = def.columns.iter().map(|c| (c.name, c.ty.doc_name())).collect();
        for (i, (name, ty)) in defined.iter().enumerate() {
            match columns.get(i) {
                None => problems.push(format!("table `{table}`: column `{name}` ({ty}) is not documented")),
                Some((doc_name, doc_ty)) if doc_name != name => problems.push(format!(
                    "table `{table}`: column {} is `{doc_name}` in the doc, `{name}` in the definition",
                    i + 1
                )),
                Some((_, doc_ty)) if doc_ty != ty => problems
                    .push(format!("table `{table}`: column `{name}` is {doc_ty} in the doc, {ty} in the definition")),
                Some(_) => {}
            }
            if problems.iter().any(|p| p.starts_with(&format!("table `{table}`: column {}", i + 1))) {
                // One misplaced column shifts every later one: report the first only.
                break;
            }
        }
        for (name, _) in columns.iter().skip(defined.len()) {
            problems.push(format!("table `{table}`: column `{name}` is documented but not defined"));
        }
    }
    problems
}

fn doc() -> String {
    std::fs::read_to_string(repo().join("docs/snapshot.md")).expect("docs/snapshot.md")
}

#[test]
fn the_documented_tables_and_columns_are_the_defined_ones() {
    let problems = drift(&doc());
    assert!(problems.is_empty(), "docs/snapshot.md has drifted from src/snapshot/schema.rs:\n{}", problems.join("\n"));
}

#[test]
fn a_drifted_doc_names_the_table_and_column() {
    let doc = doc();
    let without_locked = doc.replace("| locked | bool |", "| locked_out | bool |");
    assert_eq!(
        drift(&without_locked),
        ["table `apps`: column 9 is `locked_out` in the doc, `locked` in the definition"]
    );
    let retyped = doc.replace("| membership_limit | f64 |", "| membership_limit | str |");
    assert_eq!(drift(&retyped), ["table `teams`: column `membership_limit` is str in the doc, f64 in the definition"]);
    let shortened = doc.replace("| data | str | the event's undocumented `data` object, as JSON text |\n", "");
    assert!(shortened != doc, "the audit_events rows are where this test expects them");
    assert_eq!(drift(&shortened), ["table `audit_events`: column `data` (str) is not documented"]);
    let unsectioned = doc.replace("### `identity_providers`", "### identity providers");
    assert!(drift(&unsectioned).iter().any(|p| p.contains("`identity_providers` is defined but has no section")));
}

#[test]
fn columns_defined_never_null_hold_no_nulls_in_the_acme_extract() {
    let snapshot = Snapshot::open(acme_snapshot()).expect("acme opens");
    for def in TABLE_DEFS {
        let df = snapshot.read(def.name).expect("table reads");
        for c in def.columns.iter().filter(|c| c.nulls == Nulls::Never) {
            let column = df.column(c.name).expect("the writer checked the columns");
            assert_eq!(column.null_count(), 0, "{}.{} is defined never null", def.name, c.name);
        }
    }
}

#[test]
fn the_writer_refuses_a_frame_unlike_its_definition_and_a_snapshot_missing_a_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SnapshotWriter::begin(dir.path(), "partial").expect("begin");
    let mut teams =
        TableBuilder::new().str("id", [Some("t-1")]).str("name", [Some("core")]).build("teams").expect("frame");
    let err = writer.write_table("teams", &mut teams).expect_err("two columns are not the teams table").to_string();
    assert!(err.contains("table teams") && err.contains("`type` is missing"), "{err}");
    let err = writer.write_table("team", &mut teams).expect_err("no such table").to_string();
    assert!(err.contains("team: no such table"), "{err}");

    // Every table but `authorizations`, written as the definitions say.
    for def in TABLE_DEFS.iter().filter(|d| d.name != "authorizations") {
        writer.write_table(def.name, &mut def.empty_frame().expect("empty")).expect("a conforming frame is written");
    }
    let mut manifest = Snapshot::open(acme_snapshot()).expect("acme opens").manifest().clone();
    manifest.snapshot_id = "partial".into();
    manifest.tables = writer.tables().clone();
    let err = writer.finish(&manifest).expect_err("a table is missing").to_string();
    assert!(err.contains("table authorizations was not written"), "{err}");
    assert!(!dir.path().join("partial").exists(), "nothing is moved into place");
}

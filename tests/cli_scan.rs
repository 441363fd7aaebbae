//! `leakhound scan` end to end on the fixture tree in `testdata/tree`, which
//! holds planted fake secrets across file types, placeholders that must stay
//! quiet, a binary file and an exact copy of one file.

mod common;

use std::path::{Path, PathBuf};

use common::{locations, run, scan_json, write};

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tree")
}

fn expected() -> Vec<(String, String, u64)> {
    let mut v: Vec<(String, String, u64)> = [
        ("aws-secret-access-key", "src/app.py", 9),
        ("aws-secret-access-key", "src/legacy/app_copy.py", 9),
        ("database-postgres-uri", "config/settings.yaml", 2),
        ("generic-secret-assignment", "web/appsettings.json", 4),
        ("github-pat-classic", ".env", 2),
        ("google-api-key", "src/Main.java", 3),
        ("private-key-pkcs8", "keys/deploy_key.pem", 1),
        ("slack-bot-token", "config/settings.yaml", 4),
        ("slack-webhook-url", "deploy/notify.sh", 2),
        ("stripe-secret-key", ".env", 3),
    ]
    .iter()
    .map(|(d, p, l)| (d.to_string(), p.to_string(), *l))
    .collect();
    v.sort();
    v
}

/// Copies the fixture tree into a fresh temporary directory.
fn copy_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&tree(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// Every raw secret planted in the fixture tree, read back from a report.
fn planted_secrets() -> Vec<String> {
    let (_, report, _) = scan_json(&[tree().to_str().expect("utf-8 path")]);
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["secret"].as_str().expect("secret").to_string())
        .collect();
    for f in report["findings"].as_array().expect("findings") {
        if let Some(parts) = f["parts"].as_object() {
            v.extend(
                parts
                    .values()
                    .map(|p| p.as_str().expect("part").to_string()),
            );
        }
    }
    // Short parts (a user name like `app`) also occur in paths; they are not secrets.
    v.retain(|s| s.len() >= 8);
    v
}

#[test]
fn finds_exactly_the_planted_secrets() {
    let (code, report, _) = scan_json(&[tree().to_str().expect("utf-8 path")]);
    assert_eq!(code, 1);
    assert_eq!(locations(&report), expected());
    // The AWS pair is one finding with the key id as a part, in two files.
    let aws: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["detector"] == "aws-secret-access-key")
        .collect();
    assert_eq!(aws.len(), 1);
    assert!(aws[0]["parts"]["access_key_id"]
        .as_str()
        .expect("paired id")
        .starts_with("AKIA"));
    assert_eq!(aws[0]["locations"].as_array().expect("locations").len(), 2);
    // The binary file is skipped and says why.
    let skipped = report["scan"]["skipped"].as_array().expect("skipped");
    assert!(skipped
        .iter()
        .any(|s| s["path"] == "assets/logo.png"
            && s["reason"].as_str().unwrap_or("").contains("binary")));
    // With one thread no two workers race to the same content first.
    let (_, report, _) = scan_json(&[tree().to_str().expect("utf-8 path"), "--threads", "1"]);
    assert_eq!(
        report["scan"]["blobs_deduplicated"], 1,
        "the copied file is scanned once"
    );
}

#[test]
fn json_report_follows_the_contract() {
    let (_, r, _) = scan_json(&[tree().to_str().expect("utf-8 path")]);
    assert_eq!(r["tool"]["name"], "leakhound");
    assert!(r["tool"]["version"].is_string());
    for key in ["duration_ms", "bytes_scanned", "blobs_scanned"] {
        assert!(r["scan"][key].is_u64(), "scan.{key}");
    }
    assert!(r["scan"]["skipped"].is_array());
    for f in r["findings"].as_array().expect("findings") {
        let fp = f["fingerprint"].as_str().expect("fingerprint");
        assert!(fp.len() == 32 && fp.bytes().all(|b| b.is_ascii_hexdigit()));
        for key in ["detector", "name", "confidence", "secret"] {
            assert!(f[key].is_string(), "finding.{key}");
        }
        assert!(["low", "medium", "high"].contains(&f["confidence"].as_str().expect("confidence")));
        assert!(f["entropy"].is_f64());
        assert_eq!(f["verification"]["status"], "not_checked");
        for l in f["locations"].as_array().expect("locations") {
            assert_eq!(l["source"], "file");
            assert!(l["path"].is_string());
            assert!(l["line"].as_u64().expect("line") >= 1);
            assert!(l["column"].as_u64().expect("column") >= 1);
        }
    }
}

#[test]
fn exit_codes() {
    let clean = tempfile::tempdir().expect("tempdir");
    write(
        clean.path(),
        "main.rs",
        "fn main() { println!(\"hello\"); }\n",
    );
    let p = clean.path().to_str().expect("utf-8");
    assert_eq!(run(&["scan", p]).status.code(), Some(0));
    let t = tree();
    let t = t.to_str().expect("utf-8");
    assert_eq!(run(&["scan", t]).status.code(), Some(1));
    assert_eq!(run(&["scan", t, "--exit-code", "7"]).status.code(), Some(7));
    assert_eq!(
        run(&["scan", "dir", t]).status.code(),
        Some(1),
        "`scan dir` forces the fs source"
    );
    let missing = run(&["scan", "/nonexistent/leakhound-test"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/leakhound-test"));
    assert_eq!(run(&["scan"]).status.code(), Some(2), "a path is required");
}

#[test]
fn redact_hides_every_secret_in_every_format() {
    let secrets = planted_secrets();
    assert!(secrets.len() >= 10);
    let t = tree();
    let t = t.to_str().expect("utf-8");
    for format in ["human", "json", "jsonl", "sarif", "csv", "html"] {
        let out = run(&["scan", t, "--redact", "--format", format]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{format} output leaks a secret");
        }
        assert!(text.contains("*****"), "{format} shows redacted forms");
    }
}

#[test]
fn csv_has_one_row_per_location_with_the_secret() {
    let t = tree();
    let out = run(&["scan", t.to_str().expect("utf-8"), "--format", "csv"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().expect("header").clone();
    assert_eq!(&header[0], "fingerprint");
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    let (_, report, _) = common::scan_json(&[t.to_str().expect("utf-8")]);
    let locations: usize = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["locations"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(rows.len(), locations);
    for f in report["findings"].as_array().expect("findings") {
        let secret = f["secret"].as_str().expect("secret");
        assert!(
            rows.iter().any(|r| &r[5] == secret),
            "csv lists every secret"
        );
    }
}

#[test]
fn logs_never_contain_secrets() {
    let secrets = planted_secrets();
    let t = tree();
    let out = run(&[
        "scan",
        t.to_str().expect("utf-8"),
        "-vv",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("leakhound:"),
        "the summary line is on stderr"
    );
    for s in &secrets {
        assert!(!stderr.contains(s.as_str()), "stderr leaks a secret");
    }
}

#[test]
fn jsonl_and_output_file() {
    let t = tree();
    let t = t.to_str().expect("utf-8");
    let out = run(&["scan", t, "--format", "jsonl"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a finding"))
        .collect();
    assert_eq!(
        lines.len(),
        expected().len() - 1,
        "one line per finding (the AWS pair has two locations)"
    );
    assert!(lines
        .iter()
        .all(|f| f["fingerprint"].is_string() && f["locations"].is_array()));

    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let out = run(&[
        "scan",
        t,
        "--format",
        "json",
        "--output",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "the report goes to the file");
    let parsed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written")).expect("json");
    assert_eq!(locations(&parsed), expected());
}

#[test]
fn fingerprints_survive_moving_a_secret() {
    let (_, before, _) = scan_json(&[tree().to_str().expect("utf-8")]);
    let moved = copy_tree();
    let env = std::fs::read_to_string(moved.path().join(".env")).expect("read");
    std::fs::remove_file(moved.path().join(".env")).expect("rm");
    write(
        moved.path(),
        "elsewhere/deep/vars.env",
        format!("\n\n\n# moved\n{env}"),
    );
    let (_, after, _) = scan_json(&[moved.path().to_str().expect("utf-8")]);
    let fps = |r: &serde_json::Value| {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["fingerprint"].to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(fps(&before), fps(&after));
    let gh = after["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["detector"] == "github-pat-classic");
    let loc = &gh.expect("github token still found")["locations"][0];
    assert_eq!(
        (loc["path"].as_str(), loc["line"].as_u64()),
        (Some("elsewhere/deep/vars.env"), Some(6))
    );
}

#[test]
fn gitignore_is_ignored_by_default_and_git_internals_are_skipped() {
    let dir = copy_tree();
    write(dir.path(), ".gitignore", ".env\n");
    write(dir.path(), ".git/config", "[core]\n");
    let p = dir.path().to_str().expect("utf-8");
    let (_, r, _) = scan_json(&[p]);
    assert!(
        locations(&r).iter().any(|(_, path, _)| path == ".env"),
        "a gitignored .env is still scanned"
    );
    assert!(r["scan"]["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .any(|s| s["path"] == ".git" && s["reason"].as_str().unwrap_or("").contains("git")));
    let (_, r, _) = scan_json(&[p, "--respect-gitignore"]);
    assert!(!locations(&r).iter().any(|(_, path, _)| path == ".env"));
}

#[test]
fn exclude_globs() {
    let t = tree();
    let (_, r, _) = scan_json(&[
        t.to_str().expect("utf-8"),
        "--exclude",
        "src/**",
        "--exclude",
        "*.pem",
    ]);
    let got = locations(&r);
    assert!(got
        .iter()
        .all(|(_, p, _)| !p.starts_with("src/") && !p.ends_with(".pem")));
    assert_eq!(got.len(), expected().len() - 4);
    let bad = run(&["scan", t.to_str().expect("utf-8"), "--exclude", "a{b"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_single_file_root_reports_its_path_as_given() {
    let f = tree().join("config/settings.yaml");
    let (_, r, _) = scan_json(&[f.to_str().expect("utf-8")]);
    let got = locations(&r);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|(_, p, _)| p == f.to_str().expect("utf-8")));
}

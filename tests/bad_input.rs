//! Bad input gets a clear error or a recorded skip, and the scan goes on.

mod common;

use common::{run, scan_json, token, write, ALNUM};

fn gh_token(seed: u64) -> String {
    format!("ghp_{}", token(seed, 36, ALNUM))
}

#[test]
fn non_utf8_file_names_are_scanned() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9-\xff.env");
    std::fs::write(dir.path().join(name), format!("TOKEN={}\n", gh_token(1))).expect("write");
    let (code, r, _) = scan_json(&[dir.path().to_str().expect("utf-8 dir")]);
    assert_eq!(code, 1);
    let path = r["findings"][0]["locations"][0]["path"]
        .as_str()
        .expect("path");
    assert!(
        path.starts_with("caf") && path.ends_with(".env"),
        "lossy but recognisable: {path}"
    );
}

#[test]
fn a_50_mb_single_line_file_is_skipped_by_default_and_scanned_when_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = gh_token(2);
    let mut big = "A9".repeat(25 << 20).into_bytes();
    big.extend_from_slice(format!(" {secret}").as_bytes());
    write(dir.path(), "huge.min.js", &big);
    write(dir.path(), "small.env", format!("TOKEN={}\n", gh_token(3)));
    let p = dir.path().to_str().expect("utf-8");
    let (_, r, _) = scan_json(&[p]);
    assert_eq!(
        r["findings"].as_array().expect("findings").len(),
        1,
        "the small file is still scanned"
    );
    let skipped = r["scan"]["skipped"].as_array().expect("skipped");
    assert!(skipped
        .iter()
        .any(|s| s["path"] == "huge.min.js"
            && s["reason"].as_str().unwrap_or("").contains("too large")));
    let (_, r, _) = scan_json(&[p, "--max-file-size", "64M"]);
    let secrets: Vec<&str> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["secret"].as_str().expect("secret"))
        .collect();
    assert!(
        secrets.contains(&secret.as_str()),
        "found at the end of a 50 MB line"
    );
    let loc = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["secret"] == secret.as_str())
        .expect("found")["locations"][0]
        .clone();
    assert_eq!(loc["line"], 1);
    assert_eq!(loc["column"].as_u64(), Some((50u64 << 20) + 2));
    assert!(
        loc["snippet"].as_str().expect("snippet").len() < 200,
        "the snippet cuts the long line"
    );
}

#[test]
fn binary_files_are_skipped_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bin = vec![0u8, 1, 2, 3, 0, 255];
    bin.extend_from_slice(gh_token(4).as_bytes());
    write(dir.path(), "blob.bin", &bin);
    let (code, r, _) = scan_json(&[dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0);
    assert_eq!(r["scan"]["skipped"][0]["path"], "blob.bin");
    assert!(r["scan"]["skipped"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("binary"));
}

#[test]
fn unreadable_files_are_warnings_and_skips() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "ok.env", format!("TOKEN={}\n", gh_token(5)));
    let locked = write(dir.path(), "locked.env", format!("TOKEN={}\n", gh_token(6)));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let root_can_read = std::fs::read(&locked).is_ok();
    // A dangling link is unreadable for everyone, root included.
    symlink(dir.path().join("gone.env"), dir.path().join("dangling.env")).expect("symlink");
    let out = common::run(&[
        "scan",
        dir.path().to_str().expect("utf-8"),
        "--follow-symlinks",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the readable file is still reported"
    );
    let skipped = r["scan"]["skipped"].as_array().expect("skipped");
    assert!(
        skipped
            .iter()
            .any(|s| s["path"].as_str().unwrap_or("").contains("dangling.env")),
        "{skipped:?}"
    );
    assert!(stderr.contains("dangling.env"), "a warning names the file");
    if !root_can_read {
        assert!(skipped.iter().any(|s| s["path"] == "locked.env"));
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).expect("chmod back");
}

#[test]
fn symlink_loops_do_not_hang() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a/x.env", format!("TOKEN={}\n", gh_token(7)));
    symlink(dir.path().join("a"), dir.path().join("a/loop")).expect("symlink");
    let p = dir.path().to_str().expect("utf-8");
    let (code, r, _) = scan_json(&[p, "--follow-symlinks"]);
    assert_eq!(code, 1);
    assert!(r["scan"]["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .any(|s| s["reason"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("loop")));
    let (code, _, _) = scan_json(&[p]);
    assert_eq!(code, 1, "without following, links are not entered");
}

const GOOD: &str = r#"
[[detector]]
id = "acme-token"
name = "Acme token"
description = "Test detector."
keywords = ["acme_"]
pattern = '''\b(?P<secret>acme_[a-z0-9]{20})\b'''
confidence = "high"
examples = ["t = acme_q8a9zk2lmp4rt7vw1yb3"]
non_examples = ["t = acme_short"]
references = ["https://example.invalid"]
"#;

/// Each broken variant of GOOD, and words its error must contain.
fn broken_detectors() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        (
            "invalid TOML",
            GOOD.replace("confidence = \"high\"", "confidence = high"),
            vec!["invalid detector file", "line"],
        ),
        (
            "bad regex",
            GOOD.replace("{20})", "{20}"),
            vec!["acme-token", "does not compile"],
        ),
        (
            "no capture",
            GOOD.replace("(?P<secret>acme_[a-z0-9]{20})", "acme_[a-z0-9]{20}"),
            vec!["acme-token", "secret"],
        ),
        (
            "example does not match",
            GOOD.replace("t = acme_q8a9zk2lmp4rt7vw1yb3", "t = acme_Q8"),
            vec!["acme-token", "example 1 does not match"],
        ),
        (
            "non-example matches",
            GOOD.replace("t = acme_short", "x acme_r8a9zk2lmp4rt7vw1yb3"),
            vec!["acme-token", "non_example 1 is reported"],
        ),
        (
            "keyword never in a match",
            GOOD.replace("keywords = [\"acme_\"]", "keywords = [\"acme_\", \"zzz\"]"),
            vec!["acme-token", "keyword `zzz`"],
        ),
        (
            "duplicate id",
            format!("{GOOD}{GOOD}"),
            vec!["acme-token", "duplicate id"],
        ),
        (
            "redefines a built-in",
            GOOD.replace("id = \"acme-token\"", "id = \"github-pat-classic\""),
            vec!["github-pat-classic", "duplicate id"],
        ),
        (
            "unknown field",
            GOOD.replace(
                "confidence = \"high\"",
                "confidence = \"high\"\nseverity = 3",
            ),
            vec!["severity"],
        ),
    ]
}

#[test]
fn invalid_detector_files_are_rejected_naming_file_detector_and_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = write(dir.path(), "tree/a.txt", "nothing here\n");
    let good = write(dir.path(), "good.toml", GOOD);
    let out = run(&[
        "scan",
        target.to_str().expect("utf-8"),
        "--detectors",
        good.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (what, text, words) in broken_detectors() {
        let file = write(
            dir.path(),
            &format!("{}.toml", what.replace(' ', "-")),
            &text,
        );
        let f = file.to_str().expect("utf-8");
        let out = run(&["scan", target.to_str().expect("utf-8"), "--detectors", f]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(file.file_name().expect("name").to_str().expect("utf-8")),
            "{what} names the file: {stderr}"
        );
        for w in words {
            assert!(stderr.contains(w), "{what}: expected `{w}` in: {stderr}");
        }
        if what != "redefines a built-in" {
            let check = run(&["detectors", "check", f]);
            assert_ne!(
                check.status.code(),
                Some(0),
                "`detectors check` fails on {what}"
            );
        }
    }
}

//! `.leakhound.toml` end to end: found at the scan root, flags win over it,
//! allowlists suppress, detectors can be added and disabled, and a broken
//! file is an error that names its line without quoting it.

mod common;

use common::{run, write};

const TOKEN: &str = "ghp_Cf3Wq8Zk1Lm6Rt9Vb2Nx5Hy7Jd4Fs0Ga3Eu8";
const ALLOWED: &str = "ghp_Fixture9Wq8Zk1Lm6Rt9Vb2Nx5Hy7Jd4Fs0G";
const STRIPE: &str = "sk_live_51Hq8ZkLm6Rt9Vb2Nx5Hy7Jd4";

#[test]
fn config_file_sets_defaults_allowlists_and_detectors_and_flags_win() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "app.env",
        format!("GITHUB_TOKEN={TOKEN}\nOTHER_TOKEN={ALLOWED}\nSTRIPE={STRIPE}\n"),
    );
    write(root, "vendor/lib.env", format!("GITHUB_TOKEN={TOKEN}\n"));
    write(root, "internal.txt", "ACME-KEY-7f3a9c1e5b2d8046\n");
    write(
        root,
        "team/acme.toml",
        r#"[[detector]]
id = "acme-key"
name = "ACME internal key"
description = "Key for ACME's internal API."
keywords = ["ACME-KEY-"]
pattern = '''(?P<secret>ACME-KEY-[0-9a-f]{16})'''
confidence = "high"
examples = ["k = ACME-KEY-7f3a9c1e5b2d8046"]
non_examples = ["k = ACME-KEY-xyz"]
references = ["https://wiki.acme.example/keys"]
"#,
    );
    write(
        root,
        ".leakhound.toml",
        r#"[detectors]
paths = ["team/acme.toml"]
disable = ["stripe-secret-key"]

[allowlist]
stopwords = ["fixture"]

[scan]
exclude = ["vendor/**"]
format = "json"
exit_code = 3
"#,
    );
    let r = root.to_str().expect("utf-8");
    let out = run(&["scan", r]);
    assert_eq!(out.status.code(), Some(3), "exit_code from the config");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("json from the config's format");
    let findings = report["findings"].as_array().expect("findings");
    let by_secret = |s: &str| findings.iter().find(|f| f["secret"] == s);
    let token = by_secret(TOKEN).expect("the token");
    assert_eq!(
        token["locations"].as_array().map(Vec::len),
        Some(1),
        "vendor/ is excluded"
    );
    let allowed = by_secret(ALLOWED).expect("allowlisted, still reported");
    assert_eq!(allowed["suppressed"]["kind"], "config");
    assert_eq!(allowed["suppressed"]["justification"], "stopword `fixture`");
    assert!(
        by_secret(STRIPE).is_none_or(|f| f["detector"] != "stripe-secret-key"),
        "stripe-secret-key is disabled"
    );
    assert_eq!(
        by_secret("ACME-KEY-7f3a9c1e5b2d8046").expect("team detector")["detector"],
        "acme-key"
    );

    // Flags win over the file.
    let out = run(&[
        "scan",
        r,
        "--format",
        "human",
        "--exit-code",
        "5",
        "--color",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stdout).contains("acme-key"));
}

#[test]
fn a_malformed_config_names_its_line_and_does_not_quote_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "a.txt", "nothing\n");
    write(
        root,
        ".leakhound.toml",
        format!("[allowlist]\nsecrets = [\"{TOKEN}\"]\n[scan]\nexit_code = \"three\"\n"),
    );
    let out = run(&["scan", root.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".leakhound.toml:4: invalid config"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");

    // A value of the wrong type is not echoed either (the parser would quote it).
    write(
        root,
        ".leakhound.toml",
        format!("[allowlist]\nsecrets = \"{TOKEN}\"\n"),
    );
    let out = run(&["scan", root.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".leakhound.toml:2: invalid config"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");
    for bad in [
        format!("[scan]\nformat = \"{TOKEN}\"\n"),
        format!("[allowlist]\nregexes = [\"({TOKEN}\"]\n"),
    ] {
        write(root, ".leakhound.toml", bad);
        let out = run(&["scan", root.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("must be one of") || stderr.contains("not a valid regular expression"),
            "{stderr}"
        );
        assert!(!stderr.contains(TOKEN), "{stderr}");
    }
    std::fs::remove_file(root.join(".leakhound.toml")).expect("rm");

    write(root, "other.toml", "[scan]\nunknown_option = 1\n");
    let out = run(&[
        "scan",
        root.to_str().expect("utf-8"),
        "--config",
        root.join("other.toml").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("other.toml:2: invalid config"));
}

//! Suppression end to end through the CLI: baselines (also after a secret
//! moves), inline `leakhound:allow`, the ignore file, their precedence, and
//! exit codes.

mod common;

use common::{run, scan_json, write};

const OLD: &str = "ghp_Oq8Zr2Lk7Vt4Xw9Nm3Bc6Hd1Fj5Gs0Ka2Yu4";
const NEW: &str = "ghp_Nw5Yt3Lp8Rz1Vq6Xm2Bc9Hd4Fj7Gs0Ka3Uu7";

fn finding<'a>(report: &'a serde_json::Value, secret: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["secret"] == secret)
        .unwrap_or_else(|| panic!("no finding for {secret}"))
}

#[test]
fn a_baseline_suppresses_old_findings_even_moved_and_new_ones_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    write(&root, "app.env", format!("GITHUB_TOKEN={OLD}\n"));
    let base = dir.path().join("baseline.json");
    let (r, b) = (root.to_str().expect("utf-8"), base.to_str().expect("utf-8"));
    let out = run(&["baseline", "create", r, "--output", b]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&base).expect("baseline written");
    assert!(
        !text.contains(OLD),
        "a baseline holds fingerprints, not secrets"
    );

    // Unchanged: everything is suppressed, exit 0.
    let (code, report, _) = scan_json(&[r, "--baseline", b]);
    assert_eq!(code, 0);
    assert_eq!(finding(&report, OLD)["suppressed"]["kind"], "baseline");

    // The old secret moves to another file and line; a new one appears.
    std::fs::remove_file(root.join("app.env")).expect("rm");
    write(
        &root,
        "config/other.env",
        format!("# moved\n\nTOKEN={OLD}\n"),
    );
    write(&root, "new.env", format!("GITHUB_TOKEN={NEW}\n"));
    let (code, report, _) = scan_json(&[r, "--baseline", b]);
    assert_eq!(code, 1, "a new leak fails the build");
    assert_eq!(finding(&report, OLD)["suppressed"]["kind"], "baseline");
    assert!(finding(&report, NEW).get("suppressed").is_none());
    assert_eq!(report["scan"]["suppressed"], 1);

    // The old secret is removed: its baseline entry is stale.
    std::fs::remove_file(root.join("config/other.env")).expect("rm");
    let (_, report, stderr) = scan_json(&[r, "--baseline", b]);
    let stale = report["scan"]["stale_baseline"]
        .as_array()
        .expect("stale list");
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["detector"], "github-pat-classic");
    assert!(stderr.contains("stale"), "{stderr}");
    assert!(!stderr.contains(OLD));
}

#[test]
fn inline_allow_and_the_ignore_file_suppress_with_precedence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "a.py",
        format!("token = \"{OLD}\"  # leakhound:allow test fixture\n"),
    );
    write(root, "b.py", format!("token = \"{NEW}\"\n"));
    let r = root.to_str().expect("utf-8");
    let (code, report, _) = scan_json(&[r]);
    assert_eq!(code, 1);
    assert_eq!(finding(&report, OLD)["suppressed"]["kind"], "inline");
    let fp = finding(&report, NEW)["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string();
    let old_fp = finding(&report, OLD)["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string();

    // The ignore file at the scan root is found by itself; inline wins over it.
    write(
        root,
        ".leakhoundignore",
        format!("# accepted risks\n{fp}  # revoked 2026-11-01\n{old_fp}\n"),
    );
    let (code, report, _) = scan_json(&[r]);
    assert_eq!(code, 0, "nothing unsuppressed is left");
    let new = finding(&report, NEW);
    assert_eq!(new["suppressed"]["kind"], "ignore_file");
    assert_eq!(new["suppressed"]["justification"], "revoked 2026-11-01");
    assert_eq!(finding(&report, OLD)["suppressed"]["kind"], "inline");

    // A human report lists no suppressed finding but counts them.
    let out = run(&["scan", r, "--color", "never"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("ghp_"), "{text}");
    assert!(text.contains("2 suppressed"), "{text}");

    // A malformed ignore file is an error that names the line.
    write(root, "bad-ignore", "not-a-fingerprint\n");
    let out = run(&[
        "scan",
        r,
        "--ignore-file",
        root.join("bad-ignore").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad-ignore:1:"));
}

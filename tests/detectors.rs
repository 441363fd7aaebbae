//! The built-in detectors: enough of them, each documented and proven by its
//! own examples through the real engine (the same check users run).

mod common;

use leakhound::detector::{check, load_builtin, DetectorSet};

#[test]
fn built_in_detectors_pass_their_examples() {
    let set = DetectorSet::new(load_builtin().expect("built-in files load")).expect("unique ids");
    assert!(
        set.len() >= 80,
        "at least 80 built-in detectors, have {}",
        set.len()
    );
    for d in set.as_slice() {
        assert!(d.examples.len() >= 2, "{}: at least 2 examples", d.id);
        assert!(
            d.non_examples.len() >= 2,
            "{}: at least 2 non-examples",
            d.id
        );
        assert!(
            d.references
                .iter()
                .all(|r| r.starts_with("https://") || r.starts_with("http://")),
            "{}",
            d.id
        );
    }
    let all: Vec<usize> = (0..set.len()).collect();
    let failures: Vec<String> = check(&set, &all).iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn cli_lists_and_checks_built_ins() {
    let out = common::run(&["detectors", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("github-pat-classic") && text.contains("aws-secret-access-key"));
    let out = common::run(&["detectors", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(rows.as_array().expect("array").len() >= 80);
    let out = common::run(&["detectors", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 failures"));
}

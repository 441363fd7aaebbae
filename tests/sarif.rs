//! `--format sarif` end to end: a real scan (files, git history, Postman),
//! validated against the official SARIF 2.1.0 schema from ../shared/schemas.

mod common;

use common::{bin, write, GitFixture};

/// The schema, read from the shared folder (never copied into the repository).
fn validator() -> Option<jsonschema::Validator> {
    let path = common::shared("schemas/sarif-schema-2.1.0.json")?;
    let text = std::fs::read_to_string(&path).expect("the schema is readable");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    Some(
        jsonschema::options()
            .build(&schema)
            .expect("the schema compiles"),
    )
}

fn sarif(args: &[&str]) -> (serde_json::Value, String) {
    let out = bin()
        .args(args)
        .args(["--format", "sarif"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    (serde_json::from_str(&text).expect("SARIF is JSON"), text)
}

fn assert_valid(log: &serde_json::Value) {
    if let Some(v) = validator() {
        let errors: Vec<String> = v
            .iter_errors(log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn file_git_and_postman_scans_give_schema_valid_sarif_without_secrets() {
    let secret = "ghp_R4nd0mLo0k1ngT0k3nV4lu3Qz9Xw2Kd8Lm5Np";
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "src/app.py", format!("token = \"{secret}\"\n"));
    write(
        dir.path(),
        "dir with space/é.txt",
        format!("GITHUB_TOKEN={secret}\n"),
    );
    let (log, text) = sarif(&["scan", "dir", dir.path().to_str().expect("utf-8")]);
    assert_valid(&log);
    assert!(!text.contains(secret), "SARIF messages are always redacted");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let result = &run["results"][0];
    assert_eq!(
        rules[result["ruleIndex"].as_u64().expect("index") as usize]["id"],
        result["ruleId"]
    );
    assert!(rules[0]["help"]["text"]
        .as_str()
        .expect("help")
        .contains("rotate"));
    assert!(rules[0]["helpUri"]
        .as_str()
        .expect("helpUri")
        .starts_with("https://"));
    assert_eq!(result["locations"].as_array().expect("locations").len(), 2);
    let uris: Vec<&str> = result["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(&"dir%20with%20space/%C3%A9.txt"), "{uris:?}");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert_eq!(
        result["partialFingerprints"]["leakhoundFingerprint/v1"]
            .as_str()
            .map(str::len),
        Some(32)
    );

    let mut repo = GitFixture::new();
    repo.write("config.env", format!("GITHUB_TOKEN={secret}\n"));
    let commit = repo.commit("add token");
    let (log, _) = sarif(&["scan", "git", repo.root()]);
    assert_valid(&log);
    let loc = &log["runs"][0]["results"][0]["locations"][0];
    assert_eq!(loc["properties"]["commit"], commit.as_str());

    // The validator is live: a broken copy fails it.
    if let Some(v) = validator() {
        let mut broken = log.clone();
        broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
            ["startLine"] = 0.into();
        assert!(!v.is_valid(&broken));
    }

    // Suppressed findings are SARIF suppressions, not dropped.
    write(
        dir.path(),
        "allowed.py",
        "key = \"ghp_Xk4Pq9Wz2Lm7Rt1Vb8Nc3Hy6Jd0Fs5Ga2Eu9\"  # leakhound:allow\n",
    );
    let (log, _) = sarif(&["scan", "dir", dir.path().to_str().expect("utf-8")]);
    assert_valid(&log);
    let suppressed: Vec<&serde_json::Value> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| {
            !r["suppressions"]
                .as_array()
                .expect("suppressions")
                .is_empty()
        })
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");

    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/postman");
    let (log, _) = sarif(&["scan", "postman", fixtures]);
    assert_valid(&log);
    assert!(log["runs"][0]["results"].as_array().expect("results").len() > 10);
}

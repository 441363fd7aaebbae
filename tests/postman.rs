//! The Postman source end to end: real export files (testdata/postman), real
//! bad input, a real zip archive, the real corpus of public exports, and a
//! real HTTP server on 127.0.0.1 answering in the Postman API's shapes.

mod common;

use std::{
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
};

use common::{bin, scan_json, serve, write, Reply};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/postman");

/// (detector, secret, path, pointer, field, via) of every Postman location.
fn postman_locations(
    report: &serde_json::Value,
) -> Vec<(String, String, String, String, String, String)> {
    let mut v = Vec::new();
    for f in report["findings"].as_array().expect("findings") {
        for l in f["locations"].as_array().expect("locations") {
            assert_eq!(l["source"], "postman", "{l}");
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            v.push((
                f["detector"].as_str().unwrap_or("").to_string(),
                f["secret"].as_str().unwrap_or("").to_string(),
                s("path"),
                s("json_pointer"),
                s("field"),
                s("via"),
            ));
        }
    }
    v.sort();
    v
}

#[test]
fn every_field_kind_is_found_at_its_exact_pointer_and_placeholders_are_not() {
    let (code, report, _) = scan_json(&["postman", FIXTURES]);
    assert_eq!(code, 1);
    let got = postman_locations(&report);
    let api = "api.postman_collection.json";
    let user = "/item/0/item/0/item/0";
    let deploy = "/item/0/item/1";
    let want: Vec<(&str, &str, &str, String, &str, &str)> = vec![
        (
            "github-pat-classic",
            "ghp_Q7mZk2Lp9Rt4Vx8Nw3Bc6Hd1Fj5Gs0Ka2Yu4",
            api,
            "/auth/bearer/0/value".into(),
            "auth.bearer.token",
            "",
        ),
        (
            "postman-credential",
            "e8c3a7f1d5b9c2e6a0f4d8b3c7e1a5f9d2b6c0e4",
            api,
            "/info/description".into(),
            "description",
            "",
        ),
        (
            "postman-credential",
            "f3a9c1e7b5d2486a9c0e1b7d3f5a2c4e6b8d0f19",
            api,
            "/item/0/auth/apikey/1/value".into(),
            "auth.apikey.value",
            "",
        ),
        (
            "postman-credential",
            "Tq8#vLm2-Zp4!xWr",
            api,
            format!("{user}/request/auth/basic/1/value"),
            "auth.basic.password",
            "",
        ),
        (
            "postman-credential",
            "9c4f1e7a2b8d5c3f6e0a1b9d7c2e4f8a5b3d6c1e",
            api,
            format!("{user}/request/header/0/value"),
            "header",
            "envToken",
        ),
        (
            "postman-credential",
            "9c4f1e7a2b8d5c3f6e0a1b9d7c2e4f8a5b3d6c1e",
            "prod.postman_environment.json",
            "/values/0/value".into(),
            "env.value",
            "",
        ),
        (
            "slack-bot-token",
            "xoxb-48211930355-7720316645921-Ha8nKq2Lw9Zr4Vt6Xy1Bc3Dm",
            api,
            format!("{user}/request/header/2/value"),
            "header",
            "",
        ),
        (
            "postman-credential",
            "Zx8Cv7Bn6Mq5Wl4Ek3Rj2Tp1Ys9Ud0If",
            api,
            format!("{user}/request/url/query/0/value"),
            "query",
            "",
        ),
        (
            "postman-credential",
            "Zx8Cv7Bn6Mq5Wl4Ek3Rj2Tp1Ys9Ud0If",
            api,
            format!("{user}/request/url/raw"),
            "url.raw",
            "",
        ),
        (
            "postman-credential",
            "Mn4Bv3Cx2Zl1Kj0Hg9Fd8Sa7Po6Iu5Yt",
            api,
            format!("{user}/request/url/query/2/value"),
            "query",
            "queryToken",
        ),
        (
            "postman-credential",
            "Mn4Bv3Cx2Zl1Kj0Hg9Fd8Sa7Po6Iu5Yt",
            api,
            "/variable/1/value".into(),
            "variable.collection",
            "",
        ),
        (
            "postman-credential",
            "s%3AQm8Zp1Lk7Rt3Vx9Nw2Bc5Hd0Fj4Gs6K.a7Bx2Cy9Dz4Ew1Fv6Gu3Ht8Is5Jr0",
            api,
            format!("{user}/response/0/cookie/0/value"),
            "response.cookie",
            "",
        ),
        (
            "postman-credential",
            "Pk3Lm8Nq2Rv7Ws1Xt6Yu0Zv5Aw9Bx4Cy",
            api,
            format!("{user}/response/0/originalRequest/header/0/value"),
            "response.originalRequest.header",
            "",
        ),
        (
            "postman-credential",
            "4d8a1f6c3e9b2d7a5f0c8e1b6d3a9f4c7e2b5d0a",
            api,
            format!("{deploy}/event/0/script/exec/1"),
            "script.prerequest",
            "",
        ),
        (
            "aws-access-key-id",
            "AKIAQ3EGT7VWXN2KZ5HD",
            api,
            format!("{deploy}/request/auth/awsv4/0/value"),
            "auth.awsv4.accessKey",
            "",
        ),
        (
            "aws-secret-access-key",
            "kT9vQ2mX7pL4wZ8nB3cR6yH1jF5dG0sA2eU4iO7q",
            api,
            format!("{deploy}/request/auth/awsv4/1/value"),
            "auth.awsv4.secretKey",
            "",
        ),
        (
            "postman-credential",
            "Wq7Zp2Lk9Rt4Vx8Nm3Bc6Hd1Fj5Gs0Ka",
            api,
            format!("{deploy}/request/body/raw"),
            "body.raw",
            "",
        ),
        (
            "postman-credential",
            "Cert-Pass-7421-Qz!",
            api,
            format!("{deploy}/request/certificate/passphrase"),
            "certificate.passphrase",
            "",
        ),
        (
            "url-credentials",
            "Hy6Gt5Fr4De3Sw2Aq1Zx0Cv9Bn8Mk7Lj",
            api,
            format!("{deploy}/request/url/raw"),
            "url.raw",
            "",
        ),
        (
            "postman-credential",
            "d41c7a9e3f5b2c8d6e0a4f1b9c3e7d5a2f8b6c0e",
            "legacy.postman_collection.json",
            "/requests/0/headers".into(),
            "header.raw",
            "",
        ),
        (
            "postman-credential",
            "V1-Pass!8Kq3Zr7",
            "legacy.postman_collection.json",
            "/requests/0/helperAttributes/password".into(),
            "auth.basic.password",
            "",
        ),
        (
            "stripe-secret-key",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "legacy.postman_collection.json",
            "/requests/1/preRequestScript".into(),
            "script.prerequest",
            "",
        ),
        (
            "postman-credential",
            "Dg7-Hx2!Lp9qRt4Vw",
            "v20.postman_collection.json",
            "/item/0/request/auth/digest/password".into(),
            "auth.digest.password",
            "",
        ),
        (
            "postman-credential",
            "Oa1Cs9Xk2Lm7Nq4Rv8Tw3Yz6",
            "v20.postman_collection.json",
            "/item/1/request/auth/oauth1/consumerSecret".into(),
            "auth.oauth1.consumerSecret",
            "",
        ),
        (
            "postman-credential",
            "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
            "v20.postman_collection.json",
            "/item/2/request/auth/hawk/authKey".into(),
            "auth.hawk.authKey",
            "",
        ),
        (
            "postman-credential",
            "Gl0bal-Pa55-8812!",
            "workspace.postman_globals.json",
            "/values/0/value".into(),
            "globals.value",
            "",
        ),
    ];
    let mut want: Vec<_> = want
        .into_iter()
        .map(|(d, s, p, ptr, f, v)| (d.into(), s.into(), p.into(), ptr, f.into(), v.into()))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn aws_pair_and_request_paths_are_reported() {
    let (_, report, _) = scan_json(&["postman", FIXTURES]);
    let findings = report["findings"].as_array().expect("findings");
    let aws = findings
        .iter()
        .find(|f| f["detector"] == "aws-secret-access-key")
        .expect("the awsv4 secret key");
    assert_eq!(aws["parts"]["access_key_id"], "AKIAQ3EGT7VWXN2KZ5HD");
    assert_eq!(aws["locations"][0]["request"], "Admin / Deploy");
    let legacy = findings
        .iter()
        .find(|f| f["secret"] == "V1-Pass!8Kq3Zr7")
        .expect("the v1 password");
    assert_eq!(legacy["locations"][0]["request"], "Old folder / Headers");
}

#[test]
fn human_report_links_definition_and_use() {
    let out = bin()
        .args(["scan", "postman", FIXTURES, "--color", "never"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let block = text
        .split("\n\n")
        .find(|b| b.contains("9c4f1e7a2b8d5c3f6e0a1b9d7c2e4f8a5b3d6c1e"))
        .expect("the environment token's block");
    assert!(
        block.contains("defined")
            && block.contains("prod.postman_environment.json /values/0/value"),
        "{block}"
    );
    assert!(
        block.contains("used by")
            && block.contains("via {{envToken}}")
            && block.contains("Admin / Users / Get user"),
        "{block}"
    );
}

#[test]
fn directory_scans_route_postman_exports_through_the_field_aware_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env =
        std::fs::read(Path::new(FIXTURES).join("prod.postman_environment.json")).expect("fixture");
    // Recognised by content, whatever the name.
    write(dir.path(), "config/env.json", &env);
    write(dir.path(), "notes.txt", "nothing here\n");
    let (_, report, _) = scan_json(&["dir", dir.path().to_str().expect("utf-8")]);
    let f = &report["findings"][0];
    assert_eq!(f["detector"], "postman-credential");
    assert_eq!(f["locations"][0]["source"], "postman");
    assert_eq!(f["locations"][0]["json_pointer"], "/values/0/value");
}

#[test]
fn bad_exports_are_skipped_with_file_and_position_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "truncated.postman_collection.json", "{\"info\": {\"schema\": \"https://schema.getpostman.com/json/collection/v2.1.0/collection.json\"},\n \"item\": [");
    write(d, "deep.json", "[".repeat(10_000));
    let mut bad_utf8 = br#"{"name":"e","_postman_variable_scope":"environment","values":[{"key":"note","value":"caf"#.to_vec();
    bad_utf8.extend_from_slice(
        b"\xff\xfe\"},{\"key\":\"apiSecret\",\"value\":\"Qm7Zp1Lk8Rt2Vx9Nw3Bc\"}]}",
    );
    write(d, "latin1.postman_environment.json", bad_utf8);
    write(
        d,
        "package.json",
        r#"{"name": "not-postman", "version": "1.0.0"}"#,
    );
    // Wrong types where strings are expected: parsed, nothing crashes.
    write(
        d,
        "types.postman_collection.json",
        r#"{"info":{"schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "auth": 42, "item": [{"name": 7, "request": {"header": "not-a-list", "auth": {"type": "basic", "basic": [{"key": "password", "value": 12345678}]},
            "url": {"raw": null, "query": {"key": "x"}}}}, "junk", null, {"item": {"item": []}}]}"#,
    );
    write(
        d,
        "ok.postman_globals.json",
        r#"{"name":"g","_postman_variable_scope":"globals","values":[{"key":"adminPassword","value":"Gl0bal-Pa55-9913!"}]}"#,
    );
    let (code, report, stderr) = scan_json(&["postman", d.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{stderr}");
    let skipped: Vec<(String, String)> = report["scan"]["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or("").into(),
                s["reason"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{name} not skipped: {skipped:?}"))
    };
    assert!(
        reason("truncated.postman_collection.json").contains("invalid JSON at line 2 column"),
        "{skipped:?}"
    );
    assert!(
        reason("deep.json").contains("nested deeper than 512 levels at line 1 column 513"),
        "{skipped:?}"
    );
    assert!(
        reason("package.json").contains("not a Postman export"),
        "{skipped:?}"
    );
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    let secrets: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["secret"].as_str())
        .collect();
    assert!(secrets.contains(&"Gl0bal-Pa55-9913!"), "{secrets:?}");
    assert!(
        secrets.contains(&"Qm7Zp1Lk8Rt2Vx9Nw3Bc"),
        "invalid UTF-8 elsewhere in the file: {secrets:?}"
    );
}

#[test]
fn exports_inside_a_zip_archive_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("environments/prod.json", opts)
        .expect("entry");
    zip.write_all(
        &std::fs::read(Path::new(FIXTURES).join("prod.postman_environment.json")).expect("fixture"),
    )
    .expect("write");
    zip.start_file("README.txt", opts).expect("entry");
    zip.write_all(b"not json").expect("write");
    zip.finish().expect("finish");
    let (_, report, _) = scan_json(&["postman", path.to_str().expect("utf-8")]);
    let loc = &report["findings"][0]["locations"][0];
    assert!(
        loc["path"]
            .as_str()
            .expect("path")
            .ends_with("export.zip!/environments/prod.json"),
        "{loc}"
    );
    assert_eq!(loc["json_pointer"], "/values/0/value");
}

#[test]
fn every_original_of_the_shared_corpus_parses() {
    let Some(corpus) = common::shared("postman-corpus/originals") else {
        return;
    };
    let (_, report, stderr) = scan_json(&["postman", corpus.to_str().expect("utf-8")]);
    assert_eq!(report["scan"]["skipped"], serde_json::json!([]), "{stderr}");
    assert!(report["scan"]["blobs_scanned"].as_u64().unwrap_or(0) >= 196);
}

/// A Postman-API-shaped server: paginated lists, a 429 before the first
/// collection, and a record of every request line and key seen.
fn postman_api() -> (String, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let mut limited = false;
    let base = serve(move |req| {
        let (target, key) = (req.target.as_str(), req.header("x-api-key"));
        seen.lock()
            .expect("log")
            .push(format!("{target} key={key}"));
        if key != "PMAK-test-key-123" {
            Reply::new(
                "401 Unauthorized",
                r#"{"error":{"name":"AuthenticationError"}}"#,
            )
        } else if target.starts_with("/collections?") && target.contains("offset=0") {
            Reply::new(
                "200 OK",
                r#"{"collections":[{"uid":"1-aaa","name":"A"}],"meta":{"total":2,"offset":0,"limit":1}}"#,
            )
        } else if target.starts_with("/collections?") {
            Reply::new(
                "200 OK",
                r#"{"collections":[{"uid":"1-bbb","name":"B"}],"meta":{"total":2,"offset":1,"limit":1}}"#,
            )
        } else if target.starts_with("/environments?") {
            Reply::new(
                "200 OK",
                r#"{"environments":[{"uid":"1-env","name":"prod"}]}"#,
            )
        } else if target == "/collections/1-aaa" && !limited {
            limited = true;
            Reply {
                status: "429 Too Many Requests",
                headers: "Retry-After: 1\r\n".into(),
                body: r#"{"error":"rateLimited"}"#.into(),
            }
        } else if target == "/collections/1-aaa" {
            Reply::new(
                "200 OK",
                r#"{"collection":{"info":{"name":"A","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[{"name":"Me","request":{"url":"https://api.example.invalid/me","header":[{"key":"Authorization","value":"Bearer {{apiToken}}"}]}}]}}"#,
            )
        } else if target == "/collections/1-bbb" {
            Reply::new(
                "200 OK",
                r#"{"collection":{"info":{"name":"B","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[]}}"#,
            )
        } else if target == "/environments/1-env" {
            Reply::new(
                "200 OK",
                r#"{"environment":{"id":"env","name":"prod","values":[{"key":"apiToken","value":"Rk2Lm9Nq4Vw7Xz1Cb5Dh8Fj3","type":"secret"}]}}"#,
            )
        } else {
            Reply::new("404 Not Found", "{}")
        }
    });
    (base, log)
}

#[test]
fn the_postman_api_is_a_source_paginated_and_rate_limit_aware() {
    let (base, log) = postman_api();
    let out = bin()
        .args([
            "scan",
            "postman",
            "--api",
            "--workspace",
            "ws1",
            "--postman-api-url",
            &base,
            "--format",
            "json",
        ])
        .env("POSTMAN_API_KEY", "PMAK-test-key-123")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains("PMAK-test-key-123") && !stderr.contains("PMAK-test-key-123"));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let f = &report["findings"][0];
    assert_eq!(f["secret"], "Rk2Lm9Nq4Vw7Xz1Cb5Dh8Fj3");
    let paths: Vec<&str> = f["locations"]
        .as_array()
        .expect("locs")
        .iter()
        .filter_map(|l| l["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "postman-api:collection/1-aaa",
            "postman-api:environment/1-env"
        ]
    );
    let log = log.lock().expect("log").clone();
    assert!(
        log.iter().all(|l| l.ends_with("key=PMAK-test-key-123")),
        "{log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("/collections?"))
            .count(),
        2,
        "two pages: {log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("/collections/1-aaa"))
            .count(),
        2,
        "retried after 429: {log:?}"
    );

    // A wrong key is a clear error that does not echo the key.
    let out = bin()
        .args([
            "scan",
            "postman",
            "--api",
            "--collection",
            "1-aaa",
            "--postman-api-url",
            &base,
        ])
        .env("POSTMAN_API_KEY", "PMAK-wrong-key-999")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("401") && !stderr.contains("PMAK-wrong-key-999"),
        "{stderr}"
    );
}

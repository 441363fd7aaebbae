//! Verification against real HTTP servers on 127.0.0.1: valid with
//! identity, invalid, 429 then valid, a 500, a redirect that is not
//! followed, an oversized answer read in part, a timeout, the dry run — and
//! no secret in any output but the report's own secret field.

mod common;

use std::{
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use common::{bin, scan_json, serve, write, Reply};

const LIVE: &str = "ghp_Lv4Xk8Pq2Wz6Lr1Vt9Nb3Cy7Jd5Fs0Ga4Eu2";
const DEAD: &str = "ghp_Dd7Wx3Ke9Lm1Rt5Vb8Nc2Hy6Jd4Fs0Ga1Eu5";
const LIMITED: &str = "ghp_Rl2Qz8Wx4Ke6Lm9Rt3Vb7Nc1Hy5Jd0Fs2Ga8";
const BROKEN: &str = "ghp_Br5Nc1Hy7Jd3Fs9Ga2Eu6Lv0Xk4Pq8Wz2Lr6";
const MOVED: &str = "ghp_Mv8Vt2Nb6Cy0Jd4Fs8Ga2Eu6Lv0Xk4Pq8Wz3";
const HUGE: &str = "ghp_Hg3Lr7Vt1Nb5Cy9Jd3Fs7Ga1Eu5Lv9Xk3Pq7";
const SLOW: &str = "ghp_Sl6Pq0Wz4Lr8Vt2Nb6Cy0Jd4Fs8Ga2Eu6Lv0";

/// A GitHub-shaped `/user` endpoint; answers by the bearer token.
fn github() -> (String, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let mut limited_once = false;
    let base = serve(move |req| {
        let auth = req.header("authorization");
        let token = auth.strip_prefix("Bearer ").unwrap_or(auth).to_string();
        seen.lock()
            .expect("log")
            .push(format!("{} {token}", req.target));
        match token.as_str() {
            LIVE => Reply::new("200 OK", r#"{"login":"octocat","id":1}"#),
            DEAD => Reply::new("401 Unauthorized", r#"{"message":"Bad credentials"}"#),
            LIMITED if !limited_once => {
                limited_once = true;
                Reply {
                    status: "429 Too Many Requests",
                    headers: "Retry-After: 1\r\n".into(),
                    body: "{}".into(),
                }
            }
            LIMITED => Reply::new("200 OK", r#"{"login":"ratelimited-user"}"#),
            BROKEN => Reply::new("500 Internal Server Error", "oops"),
            MOVED => Reply {
                status: "302 Found",
                headers: "Location: http://198.51.100.7/steal\r\n".into(),
                body: String::new(),
            },
            HUGE => Reply::new(
                "200 OK",
                format!("{{\"login\":\"big\",\"pad\":\"{}\"}}", "x".repeat(3 << 20)),
            ),
            SLOW => {
                thread::sleep(Duration::from_secs(15));
                Reply::new("200 OK", "{}")
            }
            _ => Reply::new("404 Not Found", "{}"),
        }
    });
    (base, log)
}

/// `leakhound scan DIR --verify` with the GitHub verifier pointed at `base`.
fn scan_verified(dir: &std::path::Path, base: &str, extra: &[&str]) -> std::process::Output {
    let endpoint = format!("github-pat-classic={base}");
    bin()
        .args([
            "scan",
            dir.to_str().expect("utf-8"),
            "--verify",
            "--verify-endpoint",
            &endpoint,
        ])
        .args(extra)
        .output()
        .expect("runs")
}

#[test]
fn declarative_verification_reads_answers_safely() {
    let (base, log) = github();
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets = [LIVE, DEAD, LIMITED, BROKEN, MOVED, HUGE];
    let text: String = secrets
        .iter()
        .map(|s| format!("GITHUB_TOKEN={s}\n"))
        .collect();
    write(dir.path(), "tokens.env", text);
    let out = scan_verified(dir.path(), &base, &["--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a live secret has its own exit code"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let status = |s: &str| {
        let f = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["secret"] == s)
            .unwrap_or_else(|| panic!("no finding for {s}"));
        (
            f["verification"]["status"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            f["verification"]["detail"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };
    assert_eq!(status(LIVE), ("valid".into(), "login=octocat".into()));
    assert_eq!(status(DEAD).0, "invalid");
    assert_eq!(
        status(LIMITED),
        ("valid".into(), "login=ratelimited-user".into()),
        "429 is retried after Retry-After"
    );
    assert_eq!(status(BROKEN), ("unknown".into(), "HTTP 500".into()));
    let (st, detail) = status(MOVED);
    assert_eq!(st, "unknown");
    assert!(detail.contains("redirect not followed"), "{detail}");
    // A 3 MiB answer is read only in part: the status still says valid, but
    // the cut JSON yields no identity (a full read would give login=big).
    assert_eq!(status(HUGE), ("valid".into(), "HTTP 200".into()));
    let log = log.lock().expect("log").clone();
    assert!(log.iter().all(|l| l.starts_with("/user ")), "{log:?}");
    assert_eq!(log.iter().filter(|l| l.ends_with(LIMITED)).count(), 2);
    assert_eq!(
        log.iter().filter(|l| l.ends_with(LIVE)).count(),
        1,
        "one request per unique secret"
    );
    for s in secrets {
        assert!(!stderr.contains(s), "{stderr}");
    }

    // --only-verified keeps the live ones alone.
    let out = scan_verified(dir.path(), &base, &["--format", "json", "--only-verified"]);
    let only: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let kept: Vec<&str> = only["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["secret"].as_str())
        .collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(
        kept.iter().all(|s| [LIVE, LIMITED, HUGE].contains(s)),
        "{kept:?}"
    );

    // The human report puts live secrets first, marked.
    let out = scan_verified(dir.path(), &base, &["--color", "never"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.split("\n\n").next().unwrap_or("");
    assert!(
        first.starts_with(" LIVE ") && first.contains("valid (login="),
        "{first}"
    );
}

#[test]
fn a_slow_provider_is_an_error_not_a_hang() {
    let (base, _) = github();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.env", format!("GITHUB_TOKEN={SLOW}\n"));
    let out = scan_verified(dir.path(), &base, &["-f", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["findings"][0]["verification"]["status"], "error");
    assert_eq!(report["findings"][0]["verification"]["detail"], "timed out");
}

#[test]
fn dry_run_lists_hosts_and_sends_nothing() {
    let (base, log) = github();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.env", format!("A={LIVE}\nB={DEAD}\n"));
    let out = bin()
        .args([
            "scan",
            dir.path().to_str().expect("utf-8"),
            "--verify-dry-run",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "github-pat-classic\tapi.github.com\t2\n"
    );
    // Pointed at a live server, a dry run still sends it nothing.
    let endpoint = format!("github-pat-classic={base}");
    let out = bin()
        .args([
            "scan",
            dir.path().to_str().expect("utf-8"),
            "--verify-dry-run",
            "--verify-endpoint",
            &endpoint,
        ])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "github-pat-classic\t{}\t2\n",
            base.trim_start_matches("http://")
        )
    );
    assert!(log.lock().expect("log").is_empty());
}

#[test]
fn verify_endpoints_can_come_from_the_config_file() {
    let (base, log) = github();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.env", format!("GITHUB_TOKEN={LIVE}\n"));
    write(
        dir.path(),
        ".leakhound.toml",
        format!("[verify]\nendpoints = {{ github-pat-classic = \"{base}\" }}\n"),
    );
    let (_, report, _) = scan_json(&[dir.path().to_str().expect("utf-8"), "--verify"]);
    assert_eq!(report["findings"][0]["verification"]["status"], "valid");
    assert_eq!(log.lock().expect("log").len(), 1);
}

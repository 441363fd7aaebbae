//! Every built-in declarative verifier, offline: a loopback server answers
//! each verifier's requests with the provider's recorded answers (shipped
//! next to the verifier in its detector file), and the real binary must
//! read a live secret as `valid` with exactly the recorded identity, and a
//! dead one as `invalid` — with the secret actually in the request, sent by
//! a read-only method.

mod common;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use base64::Engine as _;
use common::{bin, serve, write, Reply};
use leakhound::detector::{builtin_files, load_source, DetectorSource, RecordedAnswer};

/// What the server saw: (detector id, method, everything the request
/// carried: target, header values, decoded basic credentials, body).
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

fn status_line(code: u16) -> &'static str {
    Box::leak(format!("{code} Recorded").into_boxed_str())
}

/// Serves `answers[id]` for requests under `/<id>/`.
fn recorded_server(answers: BTreeMap<String, RecordedAnswer>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let base = serve(move |req| {
        let id = req
            .target
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let mut carried = format!("{}\n{}\n", req.target, req.body);
        for (name, value) in &req.headers {
            carried.push_str(value);
            carried.push('\n');
            if name == "authorization" {
                if let Some(b64) = value.strip_prefix("Basic ") {
                    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) {
                        carried.push_str(&String::from_utf8_lossy(&bytes));
                        carried.push('\n');
                    }
                }
            }
        }
        log.lock()
            .expect("log")
            .push((id.clone(), req.method.clone(), carried));
        match answers.get(&id) {
            Some(a) => Reply::new(status_line(a.status), a.body.clone()),
            None => Reply::new("404 Not Found", "{}"),
        }
    });
    (base, seen)
}

fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_builtin_verifier_reads_its_recorded_answers() {
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for (name, text) in builtin_files() {
        let detectors = load_source(&DetectorSource::Builtin(name), text)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let declarative: Vec<_> = detectors
            .iter()
            .filter(|d| d.verify.as_ref().is_some_and(|v| v.url.is_some()))
            .collect();
        if declarative.is_empty() {
            continue;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(dir.path(), "detectors.toml", text);
        // Each detector's examples in a file of their own, so companions
        // pair as the examples mean them to.
        for d in &declarative {
            write(
                dir.path(),
                &format!("scan/{}.txt", d.id.as_str()),
                d.examples.join("\n\n"),
            );
        }
        for live in [true, false] {
            let answers: BTreeMap<String, RecordedAnswer> = declarative
                .iter()
                .map(|d| {
                    let rec = d
                        .verify
                        .as_ref()
                        .and_then(|v| v.recorded.as_ref())
                        .unwrap_or_else(|| {
                            panic!(
                                "{}: a built-in verifier ships recorded answers",
                                d.id.as_str()
                            )
                        });
                    let answer = if live { &rec.valid } else { &rec.invalid };
                    (d.id.as_str().to_string(), answer.clone())
                })
                .collect();
            let (base, seen) = recorded_server(answers.clone());
            let mut cmd = bin();
            cmd.args(["scan", &dir.path().join("scan").to_string_lossy()])
                .args(["--no-builtin", "--detectors", &file.to_string_lossy()])
                .args(["--verify", "--verify-rate", "0", "-f", "json"]);
            for d in &declarative {
                cmd.arg("--verify-endpoint")
                    .arg(format!("{0}={base}/{0}", d.id.as_str()));
            }
            let out = cmd.output().expect("runs");
            let report: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                    panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr))
                });
            let seen = seen.lock().expect("seen").clone();
            for d in &declarative {
                let id = d.id.as_str();
                let findings: Vec<&serde_json::Value> = report["findings"]
                    .as_array()
                    .expect("findings")
                    .iter()
                    .filter(|f| f["detector"] == id)
                    .collect();
                let with = |status: &str| {
                    findings
                        .iter()
                        .filter(|f| f["verification"]["status"] == status)
                        .copied()
                        .collect::<Vec<_>>()
                };
                let expect = &answers[id];
                let (want, other) = if live {
                    ("valid", "invalid")
                } else {
                    ("invalid", "valid")
                };
                let hits = with(want);
                if hits.is_empty() || !with(other).is_empty() {
                    failures.push(format!(
                        "{id}: recorded {} answer (HTTP {}) not read as {want}: {:?}",
                        if live { "valid" } else { "invalid" },
                        expect.status,
                        findings
                            .iter()
                            .map(|f| f["verification"].to_string())
                            .collect::<Vec<_>>()
                    ));
                    continue;
                }
                if let (true, Some(detail)) = (live, &expect.detail) {
                    for f in &hits {
                        if f["verification"]["detail"] != detail.as_str() {
                            failures.push(format!(
                                "{id}: detail {} instead of {detail:?}",
                                f["verification"]["detail"]
                            ));
                        }
                    }
                }
                for f in &hits {
                    let secret = f["secret"].as_str().unwrap_or("");
                    let carried = seen.iter().any(|(sid, method, carried)| {
                        sid == id
                            && matches!(method.as_str(), "GET" | "HEAD" | "POST")
                            && (carried.contains(secret)
                                || percent_decoded(carried).contains(secret))
                    });
                    if !carried {
                        failures.push(format!("{id}: no read-only request carried the secret"));
                    }
                }
                if live {
                    verified.push(id.to_string());
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        verified.len() >= 40,
        "{} built-in declarative verifiers tested: {verified:?}",
        verified.len()
    );
}

//! The verification safety policy, rule by rule, each against real servers
//! on 127.0.0.1 so that removing the rule fails its test: the network guard
//! (checked after DNS resolution), per-host concurrency, the global rate,
//! one request per unique secret, `--verify-db`; and the code verifiers:
//! AWS SigV4 checked by a server that recomputes the signature itself, and
//! PostgreSQL and Redis handshakes against servers speaking their protocols.

mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use common::{bin, scan_json, serve, serve_parallel, write, Reply};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn report(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    })
}

fn verification(report: &serde_json::Value, detector: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["detector"] == detector)
        .map(|f| {
            (
                f["verification"]["status"].as_str().unwrap_or("").into(),
                f["verification"]["detail"].as_str().unwrap_or("").into(),
            )
        })
        .collect()
}

/// A webhook-like detector whose verifier URL takes its host from the
/// scanned data.
const HOOK_DETECTOR: &str = r#"
[[detector]]
id = "test-hook"
name = "Test hook"
description = "A hook URL whose host comes from the data."
keywords = ["hook="]
pattern = '''hook=(?P<host>[a-z0-9.]+:[0-9]+)/(?P<secret>[A-Za-z0-9]{24})'''
confidence = "high"
examples = ["hook=hooks.example.net:443/Tq8Vx3Lm2Pz7Wn4Kd9Rb6Hs1"]
non_examples = ["hook=hooks.example.net:443/short"]
references = ["https://example.net/hooks"]

[detector.verify]
url = "http://{{host}}/check/{{secret}}"
valid_status = [200]
invalid_status = [404]
"#;

#[test]
fn hosts_from_scanned_data_are_checked_after_dns_resolution() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let base = serve(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Reply::new("200 OK", "{}")
    });
    let port = base.rsplit(':').next().expect("port");
    let dir = tempfile::tempdir().expect("tempdir");
    let detectors = write(dir.path(), "hook.toml", HOOK_DETECTOR);
    // `localhost` is a name: only resolving it shows it is the loopback.
    write(
        dir.path(),
        "scan/app.env",
        format!("hook=localhost:{port}/Tq8Vx3Lm2Pz7Wn4Kd9Rb6Hs1\n"),
    );
    let scan = |extra: &[&str]| {
        bin()
            .args(["scan", &dir.path().join("scan").to_string_lossy()])
            .args(["--no-builtin", "--detectors", &detectors.to_string_lossy()])
            .args(["--verify", "-f", "json"])
            .args(extra)
            .output()
            .expect("runs")
    };
    let refused = verification(&report(&scan(&[])), "test-hook");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "error");
    assert!(
        refused[0]
            .1
            .starts_with("refused: localhost resolves to the internal address"),
        "{}",
        refused[0].1
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was sent");

    let allowed = verification(&report(&scan(&["--verify-allow-internal"])), "test-hook");
    assert_eq!(allowed[0].0, "valid", "{allowed:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// Eight GitHub tokens, distinct.
fn tokens(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "ghp_{}",
                common::token(
                    i as u64 + 7,
                    36,
                    b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
                )
            )
        })
        .collect()
}

fn github_scan(dir: &std::path::Path, base: &str, extra: &[&str]) -> std::process::Output {
    bin()
        .args([
            "scan",
            dir.to_str().expect("utf-8"),
            "--verify",
            "-f",
            "json",
        ])
        .args(["--verify-endpoint", &format!("github-pat-classic={base}")])
        .args(extra)
        .output()
        .expect("runs")
}

#[test]
fn requests_to_one_host_stay_within_the_per_host_limit() {
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n, p) = (now.clone(), peak.clone());
    let base = serve_parallel(move |_| {
        let inside = n.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(inside, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(300));
        n.fetch_sub(1, Ordering::SeqCst);
        Reply::new("200 OK", r#"{"login":"octocat"}"#)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = tokens(8).iter().map(|t| format!("T={t}\n")).collect();
    write(dir.path(), "t.env", text);
    let out = github_scan(
        dir.path(),
        &base,
        &["--verify-per-host", "2", "--verify-rate", "0"],
    );
    let valid = verification(&report(&out), "github-pat-classic");
    assert_eq!(valid.len(), 8);
    assert!(valid.iter().all(|(s, _)| s == "valid"), "{valid:?}");
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "two in flight at most, and two used"
    );
}

#[test]
fn request_starts_keep_to_the_global_rate() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let log = starts.clone();
    let base = serve_parallel(move |_| {
        log.lock().expect("log").push(Instant::now());
        Reply::new("200 OK", r#"{"login":"octocat"}"#)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = tokens(6).iter().map(|t| format!("T={t}\n")).collect();
    write(dir.path(), "t.env", text);
    github_scan(dir.path(), &base, &["--verify-rate", "5"]);
    let mut starts = starts.lock().expect("log").clone();
    starts.sort();
    assert_eq!(starts.len(), 6);
    // Six starts at five per second span at least five intervals of 200 ms.
    let span = starts[5] - starts[0];
    assert!(span >= Duration::from_millis(900), "{span:?}");
}

#[test]
fn a_secret_found_in_many_places_is_sent_once() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let base = serve(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Reply::new("200 OK", r#"{"login":"octocat"}"#)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let token = &tokens(1)[0];
    for name in ["a.env", "b/c.env", "d.yaml"] {
        write(dir.path(), name, format!("GITHUB_TOKEN={token}\n"));
    }
    let out = github_scan(dir.path(), &base, &[]);
    assert_eq!(verification(&report(&out), "github-pat-classic").len(), 1);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------- AWS SigV4

const KEY_ID: &str = "AKIAQ4TZ7XWJ3MHKD5PN";
const SECRET: &str = "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";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The signature AWS would compute for `req`, from the SigV4 specification
/// (written here, apart from the signer under test).
fn expected_signature(req: &common::Request, secret: &str) -> Option<(String, String)> {
    let auth = req.header("authorization");
    let credential = auth.split("Credential=").nth(1)?.split(',').next()?;
    let signed = auth.split("SignedHeaders=").nth(1)?.split(',').next()?;
    let given = auth.split("Signature=").nth(1)?.trim().to_string();
    let (key_id, scope) = credential.split_once('/')?; // date/region/service/aws4_request
    let mut parts = scope.split('/');
    let (date, region, service) = (parts.next()?, parts.next()?, parts.next()?);
    let mut canonical = format!("{}\n/\n\n", req.method);
    for h in signed.split(';') {
        canonical.push_str(&format!("{h}:{}\n", req.header(h).trim()));
    }
    canonical.push_str(&format!(
        "\n{signed}\n{}",
        hex::encode(Sha256::digest(req.body.as_bytes()))
    ));
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        req.header("x-amz-date"),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for step in [region, service, "aws4_request"] {
        key = hmac(&key, step.as_bytes());
    }
    let want = hex::encode(hmac(&key, to_sign.as_bytes()));
    Some((
        key_id.to_string(),
        if want == given { "ok".into() } else { want },
    ))
}

#[test]
fn aws_keys_are_verified_with_a_sigv4_signed_sts_call() {
    let base = serve(|req| {
        let ok = req.method == "POST"
            && req.body == "Action=GetCallerIdentity&Version=2011-06-15"
            && matches!(expected_signature(req, SECRET), Some((id, sig)) if id == KEY_ID && sig == "ok");
        if ok {
            Reply::new(
                "200 OK",
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::210987654321:user/deploy-bot</Arn><UserId>AIDAEXAMPLEUSERID01</UserId><Account>210987654321</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
            )
        } else {
            Reply::new(
                "403 Forbidden",
                "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error></ErrorResponse>",
            )
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "live/credentials",
        format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
    );
    let wrong = "Zr8Xk3Vn6Lp1Wq9Ts4Hb7Mc2Jd5Gf0Ya3Ue8Ko6P";
    write(
        dir.path(),
        "dead/credentials",
        format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {wrong}\n"),
    );
    let endpoint = format!("aws-secret-access-key={base}");
    for (sub, want) in [
        (
            "live",
            (
                "valid",
                "account=210987654321, arn=arn:aws:iam::210987654321:user/deploy-bot",
            ),
        ),
        ("dead", ("invalid", "HTTP 403 SignatureDoesNotMatch")),
    ] {
        let out = bin()
            .args([
                "scan",
                &dir.path().join(sub).to_string_lossy(),
                "--verify",
                "-f",
                "json",
            ])
            .args(["--verify-endpoint", &endpoint])
            .output()
            .expect("runs");
        let v = verification(&report(&out), "aws-secret-access-key");
        assert_eq!(v, vec![(want.0.to_string(), want.1.to_string())], "{sub}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(SECRET) && !stderr.contains(wrong),
            "{stderr}"
        );
    }
}

// ---------------------------------------------------------------- databases

const PG_PASSWORD: &str = "Wq7Zt3Lx9Vb2Nk5R";

/// A PostgreSQL server on 127.0.0.1 that asks for a cleartext password and
/// accepts only [`PG_PASSWORD`]; counts the queries it receives.
fn postgres_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let queries = Arc::new(AtomicUsize::new(0));
    let seen = queries.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let seen = seen.clone();
            thread::spawn(move || {
                let read_n = |s: &mut std::net::TcpStream, n: usize| {
                    let mut b = vec![0; n];
                    s.read_exact(&mut b).map(|_| b)
                };
                // Startup (after an optional SSLRequest, answered "no").
                let mut len = u32::from_be_bytes(read_n(&mut s, 4)?.try_into().unwrap_or_default());
                let mut body = read_n(&mut s, len as usize - 4)?;
                if body[..4] == 80_877_103u32.to_be_bytes() {
                    s.write_all(b"N")?;
                    len = u32::from_be_bytes(read_n(&mut s, 4)?.try_into().unwrap_or_default());
                    body = read_n(&mut s, len as usize - 4)?;
                }
                drop(body);
                s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])?; // cleartext password
                let _tag = read_n(&mut s, 1)?;
                let len = u32::from_be_bytes(read_n(&mut s, 4)?.try_into().unwrap_or_default());
                let password = read_n(&mut s, len as usize - 4)?;
                if password.strip_suffix(&[0]) == Some(PG_PASSWORD.as_bytes()) {
                    s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 0])?; // AuthenticationOk
                    s.write_all(&[b'Z', 0, 0, 0, 5, b'I'])?; // ReadyForQuery
                } else {
                    let fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0";
                    s.write_all(b"E")?;
                    s.write_all(&(fields.len() as u32 + 4).to_be_bytes())?;
                    s.write_all(fields)?;
                }
                // Anything after authentication but Terminate ('X') is a query.
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
                if rest.first().is_some_and(|t| *t != b'X') {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                Ok::<(), std::io::Error>(())
            });
        }
    });
    (port, queries)
}

/// A Redis server on 127.0.0.1 that accepts `AUTH` with [`PG_PASSWORD`].
fn redis_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().expect("clone"));
            let mut lines = Vec::new();
            let mut line = String::new();
            // *2 $4 AUTH $n password: five lines.
            while lines.len() < 5 && reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                lines.push(line.trim_end().to_string());
                line.clear();
            }
            let answer = if lines.last().map(String::as_str) == Some(PG_PASSWORD) {
                "+OK\r\n"
            } else {
                "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
            };
            let _ = s.write_all(answer.as_bytes());
        }
    });
    port
}

#[test]
fn database_uris_are_tried_only_with_verify_db_and_stop_after_authentication() {
    let (pg, queries) = postgres_server();
    let redis = redis_server();
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "settings.env",
        format!(
            "DATABASE_URL=postgres://app_rw:{PG_PASSWORD}@127.0.0.1:{pg}/orders\n\
             OLD_DATABASE_URL=postgres://app_rw:Xn4Kd8Lp2Vz6Qm9T@127.0.0.1:{pg}/orders\n\
             REDIS_URL=redis://:{PG_PASSWORD}@127.0.0.1:{redis}/0\n"
        ),
    );
    let scan = |extra: &[&str]| {
        let mut args = vec![dir.path().to_str().expect("utf-8"), "--verify"];
        args.extend_from_slice(extra);
        let (_, r, _) = scan_json(&args);
        let mut v = verification(&r, "database-postgres-uri");
        v.extend(verification(&r, "database-redis-uri"));
        v.sort();
        v
    };
    let off = scan(&[]);
    assert!(
        off.iter()
            .all(|(s, d)| s == "not_checked" && d.contains("--verify-db")),
        "{off:?}"
    );
    let guarded = scan(&["--verify-db"]);
    assert!(
        guarded
            .iter()
            .all(|(s, d)| s == "error" && d.starts_with("refused: 127.0.0.1")),
        "{guarded:?}"
    );
    let on = scan(&["--verify-db", "--verify-allow-internal"]);
    assert_eq!(
        on,
        vec![
            (
                "invalid".to_string(),
                "authentication failed for user app_rw".to_string()
            ),
            (
                "valid".to_string(),
                "user=app_rw, database=orders".to_string()
            ),
            ("valid".to_string(), "user=default".to_string()),
        ]
    );
    assert_eq!(
        queries.load(Ordering::SeqCst),
        0,
        "no query after the handshake"
    );
}

// ---------------------------------------------------------------- TLS

#[test]
fn tls_certificates_are_verified() {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    // A server with a self-signed certificate for localhost: a client that
    // verifies TLS refuses it before sending anything.
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut buf = [0u8; 4096];
            if tls.read(&mut buf).is_ok_and(|n| n > 0) {
                count.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"login":"octocat"}"#;
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.env",
        format!("GITHUB_TOKEN={}\n", tokens(1)[0]),
    );
    let out = github_scan(dir.path(), &format!("https://localhost:{port}"), &[]);
    let v = verification(&report(&out), "github-pat-classic");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].0, "error", "{v:?}");
    assert_eq!(
        served.load(Ordering::SeqCst),
        0,
        "no request got past the handshake"
    );
}

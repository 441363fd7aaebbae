//! Helpers shared by the integration tests: real binaries, real files.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use leakhound::detector::{load_source, DetectorSet, DetectorSource};

/// Compiles detectors from inline TOML, as a user file would be.
pub fn detectors(toml: &str) -> DetectorSet {
    let list = load_source(&DetectorSource::File("inline.toml".into()), toml)
        .unwrap_or_else(|e| panic!("test detectors are valid: {e:?}"));
    DetectorSet::new(list).expect("unique ids")
}

/// The built binary.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leakhound"));
    c.env_remove("RUST_LOG").env("NO_COLOR", "1");
    c
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// Runs `leakhound scan ... --format json` and parses the report.
pub fn scan_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = run(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// Writes `contents` to `dir/rel`, creating parent directories.
pub fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a relative path has a parent")).expect("mkdir");
    std::fs::write(&p, contents).expect("write fixture");
    p
}

/// (detector, path, line) of every location of every finding, sorted.
pub fn locations(report: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut v = Vec::new();
    for f in report["findings"].as_array().expect("findings array") {
        for l in f["locations"].as_array().expect("locations array") {
            v.push((
                f["detector"].as_str().expect("detector").to_string(),
                l["path"].as_str().expect("path").to_string(),
                l["line"].as_u64().expect("line"),
            ));
        }
    }
    v.sort();
    v
}

/// A deterministic pseudo-random token of `len` chars from `alphabet`.
pub fn token(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// Letters and digits.
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A real git repository in a temporary directory, driven by the `git` CLI
/// with fixed identities and dates and no user or system configuration.
pub struct GitFixture {
    pub dir: tempfile::TempDir,
    tick: u64,
}

impl GitFixture {
    /// `git init` with `main` as the default branch.
    pub fn new() -> GitFixture {
        let f = GitFixture {
            dir: tempfile::tempdir().expect("tempdir"),
            tick: 0,
        };
        f.git(&["init", "-q", "-b", "main"]);
        f
    }

    /// The repository root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The repository root as UTF-8.
    pub fn root(&self) -> &str {
        self.dir.path().to_str().expect("utf-8 temp path")
    }

    /// Runs git and returns its trimmed stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.org")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.org")
            .env(
                "GIT_AUTHOR_DATE",
                format!("2024-03-0{}T10:00:00+01:00", 1 + self.tick % 9),
            )
            .env(
                "GIT_COMMITTER_DATE",
                format!("2024-03-0{}T10:00:00+01:00", 1 + self.tick % 9),
            )
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes a file (relative path) in the work tree.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        write(self.dir.path(), rel, contents);
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit(&mut self, message: &str) -> String {
        self.tick += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// One request as a test server sees it.
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target (`/path?query`).
    pub target: String,
    /// Header lines as (lowercased name, value).
    pub headers: Vec<(String, String)>,
    /// The body (read by `Content-Length`).
    pub body: String,
}

impl Request {
    /// The value of header `name` (case-insensitive), or "".
    pub fn header(&self, name: &str) -> &str {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// An answer: status line text (`200 OK`), extra header lines (each ending
/// in `\r\n`), body.
pub struct Reply {
    /// `200 OK`, `429 Too Many Requests`, ...
    pub status: &'static str,
    /// Extra header lines.
    pub headers: String,
    /// The body (sent as JSON).
    pub body: String,
}

impl Reply {
    /// A reply without extra headers.
    pub fn new(status: &'static str, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: String::new(),
            body: body.into(),
        }
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 that answers each connection with
/// `handler`, one connection at a time. Returns its base URL.
pub fn serve(mut handler: impl FnMut(&Request) -> Reply + Send + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            answer(stream, &mut handler);
        }
    });
    base
}

/// Like [`serve`], but each connection is answered on its own thread, so
/// a test can see how many requests a client keeps in flight at once.
pub fn serve_parallel(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let handler = std::sync::Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let handler = handler.clone();
            std::thread::spawn(move || answer(stream, &mut |r: &Request| handler(r)));
        }
    });
    base
}

fn answer(mut stream: std::net::TcpStream, handler: &mut dyn FnMut(&Request) -> Reply) {
    use std::io::{BufRead, BufReader, Read, Write};
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut words = line.split_whitespace();
    let request = Request {
        method: words.next().unwrap_or("").to_string(),
        target: words.next().unwrap_or("").to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let reply = handler(&request);
    let _ = write!(
        stream,
        "HTTP/1.1 {}\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.headers,
        reply.body.len(),
        reply.body
    );
    let _ = stream.flush();
}

/// `../shared/REL` beside the repository. When it is missing the test is
/// skipped with a message on a developer machine, but fails under CI
/// (`CI` set), where `../shared` is always present.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing under CI",
        path.display()
    );
    eprintln!("skipped: {} is not present", path.display());
    None
}

//! Org scans against real local parts: GitHub- and GitLab-shaped HTTP
//! servers on 127.0.0.1 (paginated, rate-limiting once, failing on one
//! repository's metadata) serving real bare repositories over `file://`;
//! the clone cache, the state store across runs (incremental, new-only,
//! detector-set change, resolved, triage), sharding and merge — and the
//! token never in any output.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use common::{bin, serve, GitFixture, Reply};
use serde_json::{json, Value};

const TOKEN: &str = "ghp_OrgScanTestTokenQz7Xv3Lm9Kd2Wp5Rt8Nb1";
const SECRET_A: &str = "ghp_Aq7Zt3Lx9Vb2Nk5Rw8Mc4Hy6Jd1Fs0Ga3Eu7";
const SECRET_B: &str = "ghp_Bm2Kd8Wp5Rt1Nb7Qz3Xv9Lm4Jc6Hy0Fs2Ga8";
const SECRET_C: &str = "ghp_Cx5Ga9Eu3Lv7Xk1Pq6Wz2Lr8Vt4Nb0Cy5Jd3";

/// A repository on the "forge": a work tree we commit in, and the bare
/// repository the API hands out as its clone URL.
struct Hosted {
    work: GitFixture,
    bare: PathBuf,
}

impl Hosted {
    fn new(root: &Path, name: &str, files: &[(&str, String)]) -> Hosted {
        let mut work = GitFixture::new();
        for (path, text) in files {
            work.write(path, text);
        }
        work.commit("initial");
        let bare = root.join(format!("{name}.git"));
        git(&[
            "clone",
            "-q",
            "--bare",
            work.root(),
            &bare.to_string_lossy(),
        ]);
        work.git(&["remote", "add", "origin", &bare.to_string_lossy()]);
        Hosted { work, bare }
    }

    fn push(&self) {
        self.work.git(&["push", "-q", "--force", "origin", "main"]);
    }

    fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }
}

fn git(args: &[&str]) {
    let out = Command::new("git").args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The org: five repositories, a fork and an archived one among them.
struct Org {
    _root: tempfile::TempDir,
    repos: BTreeMap<&'static str, Hosted>,
    /// The wiki of `acme/api` (`api.wiki.git` beside `api.git`).
    _wiki: Hosted,
}

fn org() -> Org {
    let root = tempfile::tempdir().expect("tempdir");
    let mut repos = BTreeMap::new();
    let env = |s: &str| vec![("config/app.env", format!("GITHUB_TOKEN={s}\n"))];
    repos.insert("api", Hosted::new(root.path(), "api", &env(SECRET_A)));
    repos.insert(
        "billing",
        Hosted::new(root.path(), "billing", &env(SECRET_B)),
    );
    repos.insert(
        "web",
        Hosted::new(
            root.path(),
            "web",
            &[("deploy.sh", format!("export GH={SECRET_A}\n"))],
        ),
    );
    repos.insert(
        "docs",
        Hosted::new(
            root.path(),
            "docs",
            &[("README.md", "# docs\n".to_string())],
        ),
    );
    repos.insert(
        "forked",
        Hosted::new(root.path(), "forked", &[("x.txt", "x\n".to_string())]),
    );
    repos.insert(
        "old",
        Hosted::new(root.path(), "old", &[("y.txt", "y\n".to_string())]),
    );
    let wiki = Hosted::new(
        root.path(),
        "api.wiki",
        &[("Setup.md", format!("Use token {SECRET_C} for staging.\n"))],
    );
    Org {
        _root: root,
        repos,
        _wiki: wiki,
    }
}

/// A GitHub-shaped API for `org`: `/orgs/acme/repos` two per page with
/// `Link` headers, a 403 rate-limit answer once, a 500 on one repository's
/// metadata; it checks the bearer token on every request.
fn github_api(org: &Org) -> (String, Arc<Mutex<Vec<String>>>) {
    let listing: Vec<Value> = org
        .repos
        .iter()
        .map(|(name, h)| {
            json!({
                "full_name": format!("acme/{name}"),
                "clone_url": h.url(),
                "fork": *name == "forked",
                "archived": *name == "old",
                "has_wiki": *name == "api",
            })
        })
        .collect();
    let base = Arc::new(Mutex::new(String::new()));
    let log = Arc::new(Mutex::new(Vec::new()));
    let limited = AtomicBool::new(false);
    let (b, l) = (base.clone(), log.clone());
    let url = serve(move |req| {
        l.lock().expect("log").push(req.target.clone());
        if req.header("authorization") != format!("Bearer {TOKEN}") {
            return Reply::new("401 Unauthorized", r#"{"message":"Bad credentials"}"#);
        }
        if !limited.swap(true, Ordering::SeqCst) {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs()
                + 1;
            return Reply {
                status: "403 Forbidden",
                headers: format!("x-ratelimit-remaining: 0\r\nx-ratelimit-reset: {reset}\r\n"),
                body: r#"{"message":"API rate limit exceeded"}"#.into(),
            };
        }
        let base = b.lock().expect("base").clone();
        if req.target.starts_with("/repos/acme/broken") {
            return Reply::new("500 Internal Server Error", "{}");
        }
        if let Some(name) = req.target.strip_prefix("/repos/acme/") {
            return match listing
                .iter()
                .find(|r| r["full_name"] == format!("acme/{name}"))
            {
                Some(r) => Reply::new("200 OK", r.to_string()),
                None => Reply::new("404 Not Found", "{}"),
            };
        }
        if req.target.starts_with("/orgs/acme/repos") {
            let page: usize = req
                .target
                .split("page=")
                .nth(2)
                .or_else(|| req.target.split("&page=").nth(1))
                .and_then(|p| p.split('&').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let chunk: Vec<&Value> = listing.iter().skip((page - 1) * 2).take(2).collect();
            let last = listing.len().div_ceil(2);
            let headers = if page < last {
                format!(
                    "Link: <{base}/orgs/acme/repos?per_page=2&page={}>; rel=\"next\", <{base}/orgs/acme/repos?per_page=2&page={last}>; rel=\"last\"\r\n",
                    page + 1
                )
            } else {
                String::new()
            };
            return Reply {
                status: "200 OK",
                headers,
                body: serde_json::to_string(&chunk).expect("json"),
            };
        }
        Reply::new("404 Not Found", "{}")
    });
    *base.lock().expect("base") = url.clone();
    (url, log)
}

struct Run {
    code: i32,
    report: Value,
    stderr: String,
}

fn run(args: &[&str], env_token: &str) -> Run {
    let out: Output = bin()
        .args(args)
        .env("GITHUB_TOKEN", env_token)
        .env("GITLAB_TOKEN", env_token)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked: {stdout}\n{stderr}"
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stderr,
    }
}

fn secrets(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| f["secret"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The summary line's numbers: `N blobs scanned`, `N new`, ...
fn counted(stderr: &str, what: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("run "))
        .unwrap_or_else(|| panic!("no run line: {stderr}"));
    let words: Vec<&str> = line.split([',', ';', ':']).collect();
    words
        .iter()
        .find_map(|w| {
            w.trim()
                .strip_suffix(what)
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no `{what}` in {line}"))
}

#[test]
fn nightly_org_runs_scan_only_what_changed() {
    let org = org();
    let (api, log) = github_api(&org);
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("state.db");
    let cache = work.path().join("cache");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "github",
            "--org",
            "acme",
            "--repo",
            "acme/broken",
            "--api-url",
            &api,
            "--clone-dir",
            cache.to_str().expect("utf-8"),
            "--state",
            state.to_str().expect("utf-8"),
            "-f",
            "json",
        ];
        args.extend_from_slice(extra);
        run(&args, TOKEN)
    };

    // 1. Everything is new; the fork and the archived repository are left
    // out; the broken one is reported and skipped; the rate limit waited.
    let first = scan(&[]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        first.stderr.contains("rate limited by the API; waiting"),
        "{}",
        first.stderr
    );
    assert_eq!(
        secrets(&first.report),
        BTreeSet::from([SECRET_A.into(), SECRET_B.into()])
    );
    let a = first.report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["secret"] == SECRET_A)
        .expect("A")
        .clone();
    let repos: BTreeSet<&str> = a["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["repo"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        repos,
        BTreeSet::from(["acme/api", "acme/web"]),
        "one finding, both repositories"
    );
    let skipped = first.report["scan"]["skipped"].to_string();
    assert!(
        skipped.contains("acme/broken") && skipped.contains("HTTP 500"),
        "{skipped}"
    );
    assert_eq!(counted(&first.stderr, "repositories scanned"), 4);
    assert_eq!(counted(&first.stderr, "new"), 2);
    assert!(
        log.lock()
            .expect("log")
            .iter()
            .any(|t| t.contains("page=2")),
        "paginated"
    );
    // The mirrors' configs hold the clone URL, never the token.
    for config in walk(&cache).iter().filter(|p| p.ends_with("config")) {
        let text = std::fs::read_to_string(config).expect("config");
        assert!(
            text.contains("[remote \"origin\"]") && !text.contains(TOKEN),
            "{text}"
        );
    }

    // 2. Nothing changed: no blob is read again, nothing is new.
    let second = scan(&["--new-only"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(counted(&second.stderr, "blobs scanned"), 0);
    assert_eq!(
        counted(&second.stderr, "unchanged"),
        4,
        "refs did not move: no repository is even listed again"
    );
    assert!(counted(&second.stderr, "skipped as already scanned") >= 4);
    assert_eq!(counted(&second.stderr, "new"), 0);
    assert_eq!(counted(&second.stderr, "still present"), 2);
    assert!(secrets(&second.report).is_empty());

    // 3. One new commit with a new secret: the only new finding.
    let billing = &org.repos["billing"];
    billing
        .work
        .write("config/extra.env", format!("DEPLOY_TOKEN={SECRET_C}\n"));
    billing.work.git(&["add", "-A"]);
    billing
        .work
        .git(&["commit", "-q", "-m", "add deploy token"]);
    billing.push();
    let third = scan(&["--new-only"]);
    assert_eq!(third.code, 1, "{}", third.stderr);
    assert_eq!(
        secrets(&third.report),
        BTreeSet::from([SECRET_C.to_string()])
    );
    assert!(
        counted(&third.stderr, "blobs scanned") <= 2,
        "{}",
        third.stderr
    );

    // 4. A triaged finding no longer alerts.
    let fp = third.report["findings"][0]["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string();
    let triage = run(
        &[
            "findings",
            "triage",
            &fp,
            "--as",
            "revoked",
            "--note",
            "rotated",
            "--state",
            state.to_str().expect("utf-8"),
        ],
        TOKEN,
    );
    assert_eq!(triage.code, 0, "{}", triage.stderr);
    // The same secret pasted into a new file: the rerun finds it again in
    // the new blob, and reports it suppressed as triaged, not failing.
    billing.work.write(
        "notes.txt",
        format!("old deploy token {SECRET_C}, rotated\n"),
    );
    billing.work.git(&["add", "-A"]);
    billing.work.git(&["commit", "-q", "-m", "touch"]);
    billing.push();
    let fourth = scan(&[]);
    assert_eq!(fourth.code, 0, "{}", fourth.stderr);
    let c = fourth.report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["fingerprint"] == fp.as_str())
        .cloned()
        .expect("found again in the new blob");
    assert_eq!(c["suppressed"]["kind"], "triage", "{c}");
    assert_eq!(c["suppressed"]["justification"], "revoked: rotated", "{c}");

    // 5. History rewritten without the secret: the finding is resolved.
    billing.work.git(&["reset", "-q", "--hard", "HEAD~2"]);
    billing.push();
    let fifth = scan(&[]);
    assert_eq!(counted(&fifth.stderr, "resolved"), 1, "{}", fifth.stderr);
    let listed = run(
        &[
            "findings",
            "list",
            "--state",
            state.to_str().expect("utf-8"),
            "--status",
            "resolved",
            "-f",
            "json",
        ],
        TOKEN,
    );
    let resolved: Vec<&str> = listed
        .report
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(resolved, vec![fp.as_str()]);
    assert!(
        !listed.report.to_string().contains(SECRET_C),
        "the store lists secrets redacted"
    );

    // 6. A changed detector set rescans, and says so.
    let extra = work.path().join("extra.toml");
    std::fs::write(&extra, EXTRA_DETECTOR).expect("write");
    let sixth = scan(&["--detectors", extra.to_str().expect("utf-8")]);
    assert!(
        sixth.stderr.contains("detector set changed"),
        "{}",
        sixth.stderr
    );
    assert!(
        counted(&sixth.stderr, "blobs scanned") >= 4,
        "{}",
        sixth.stderr
    );
    assert_eq!(counted(&sixth.stderr, "new"), 0);
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

const EXTRA_DETECTOR: &str = r#"
[[detector]]
id = "acme-internal-key"
name = "Acme internal key"
description = "An internal key format."
keywords = ["acmekey_"]
pattern = '''\b(?P<secret>acmekey_[a-z0-9]{24})\b'''
confidence = "high"
examples = ["k = acmekey_q8v3lm2pz7wn4kd9rb6hs1tx"]
non_examples = ["acmekey_short"]
references = ["https://example.org/acme-keys"]
"#;

#[test]
fn shards_cover_the_org_once_and_merge_to_the_unsharded_report() {
    let org = org();
    let (api, _) = github_api(&org);
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--org",
            "acme",
            "--api-url",
            &api,
            "--include-forks",
            "--include-archived",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let listed = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["repos".to_string(), "list".into(), "github".into()];
        args.extend(base(extra));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = bin()
            .args(&refs)
            .env("GITHUB_TOKEN", TOKEN)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect()
    };
    let all = listed(&[]);
    assert_eq!(all.len(), 6);
    let mut covered = Vec::new();
    let mut reports = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        covered.extend(listed(&["--shard", &shard]));
        let report = work.path().join(format!("shard-{k}.json"));
        let mut args = vec!["scan".to_string(), "github".into()];
        args.extend(base(&[
            "--shard",
            &shard,
            "--clone-dir",
            cache.to_str().expect("utf-8"),
            "-f",
            "json",
            "-o",
            report.to_str().expect("utf-8"),
        ]));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&refs, TOKEN);
        reports.push(report);
    }
    covered.sort();
    assert_eq!(covered, all, "every repository in exactly one shard");

    let whole = work.path().join("whole.json");
    let mut args = vec!["scan".to_string(), "github".into()];
    args.extend(base(&[
        "--clone-dir",
        cache.to_str().expect("utf-8"),
        "-f",
        "json",
        "-o",
        whole.to_str().expect("utf-8"),
    ]));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs, TOKEN);
    let mut merge_args = vec!["merge".to_string()];
    merge_args.extend(reports.iter().map(|p| p.to_string_lossy().to_string()));
    let refs: Vec<&str> = merge_args.iter().map(String::as_str).collect();
    let merged = run(&refs, TOKEN).report;
    let whole: Value =
        serde_json::from_slice(&std::fs::read(&whole).expect("report")).expect("json");
    let shape = |r: &Value| -> BTreeMap<String, BTreeSet<String>> {
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let locs = f["locations"]
                    .as_array()
                    .expect("locations")
                    .iter()
                    .map(|l| l.to_string())
                    .collect();
                (f["fingerprint"].as_str().unwrap_or("").to_string(), locs)
            })
            .collect()
    };
    assert_eq!(shape(&merged), shape(&whole));
    assert_eq!(shape(&whole).len(), 2);
}

#[test]
fn gitlab_groups_and_subgroups_are_enumerated_with_the_token_in_its_header() {
    let org = org();
    let projects: Vec<Value> = ["api", "billing"]
        .iter()
        .map(|n| json!({"path_with_namespace": format!("acme/platform/{n}"), "http_url_to_repo": org.repos[n].url(), "archived": false, "wiki_enabled": false}))
        .collect();
    let base = Arc::new(Mutex::new(String::new()));
    let b = base.clone();
    let api = serve(move |req| {
        if req.header("private-token") != TOKEN {
            return Reply::new("401 Unauthorized", r#"{"message":"401 Unauthorized"}"#);
        }
        if !req.target.starts_with("/groups/acme%2Fplatform/projects")
            || !req.target.contains("include_subgroups=true")
        {
            return Reply::new("404 Not Found", "{}");
        }
        let page2 = req.target.contains("page=2");
        let headers = if page2 {
            String::new()
        } else {
            format!("Link: <{}/groups/acme%2Fplatform/projects?include_subgroups=true&page=2>; rel=\"next\"\r\n", b.lock().expect("base"))
        };
        Reply {
            status: "200 OK",
            headers,
            body: json!([projects[usize::from(page2)].clone()]).to_string(),
        }
    });
    *base.lock().expect("base") = api.clone();
    let work = tempfile::tempdir().expect("tempdir");
    let r = run(
        &[
            "scan",
            "gitlab",
            "--group",
            "acme/platform",
            "--include-subgroups",
            "--api-url",
            &api,
            "--clone-dir",
            work.path().to_str().expect("utf-8"),
            "-f",
            "json",
        ],
        TOKEN,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        secrets(&r.report),
        BTreeSet::from([SECRET_A.into(), SECRET_B.into()])
    );
    let wrong = run(
        &[
            "repos",
            "list",
            "gitlab",
            "--group",
            "acme/platform",
            "--include-subgroups",
            "--api-url",
            &api,
        ],
        "glpat-wrong",
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("HTTP 401") && wrong.stderr.contains("check the token"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn a_single_repository_gets_the_same_incremental_state() {
    let mut repo = GitFixture::new();
    repo.write("app.env", format!("GITHUB_TOKEN={SECRET_A}\n"));
    repo.commit("one");
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("s.db");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "git",
            repo.root(),
            "--state",
            state.to_str().expect("utf-8"),
            "-f",
            "json",
        ];
        args.extend_from_slice(extra);
        run(&args, TOKEN)
    };
    let first = scan(&[]);
    assert_eq!((first.code, counted(&first.stderr, "new")), (1, 1));
    let fp = first.report["findings"][0]["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string();
    let again = scan(&["--new-only"]);
    assert_eq!(
        (again.code, counted(&again.stderr, "blobs scanned")),
        (0, 0)
    );
    run(
        &[
            "findings",
            "triage",
            &fp,
            "--as",
            "false-positive",
            "--state",
            state.to_str().expect("utf-8"),
        ],
        TOKEN,
    );
    // The detector set changes, so the blob is rescanned and found again —
    // and reported as triaged, not failing the run.
    let extra = work.path().join("extra.toml");
    std::fs::write(&extra, EXTRA_DETECTOR).expect("write");
    let triaged = scan(&["--detectors", extra.to_str().expect("utf-8")]);
    assert_eq!(triaged.code, 0, "{}", triaged.stderr);
    assert_eq!(
        triaged.report["findings"][0]["suppressed"]["kind"],
        "triage"
    );
}

#[test]
fn wikis_are_scanned_when_asked() {
    let org = org();
    let (api, _) = github_api(&org);
    let work = tempfile::tempdir().expect("tempdir");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "github",
            "--repo",
            "acme/api",
            "--api-url",
            &api,
            "--clone-dir",
            work.path().to_str().expect("utf-8"),
            "-f",
            "json",
        ];
        args.extend_from_slice(extra);
        run(&args, TOKEN)
    };
    assert_eq!(
        secrets(&scan(&[]).report),
        BTreeSet::from([SECRET_A.to_string()])
    );
    let with_wiki = scan(&["--wikis"]);
    assert_eq!(
        secrets(&with_wiki.report),
        BTreeSet::from([SECRET_A.to_string(), SECRET_C.to_string()])
    );
    assert!(with_wiki.report.to_string().contains("acme/api.wiki"));
}

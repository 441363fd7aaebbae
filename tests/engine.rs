//! Engine behaviour through its public API, with detectors compiled from
//! inline TOML exactly as user detector files are.

mod common;

use common::{detectors, token, ALNUM};
use leakhound::engine::{Engine, EngineBuilder, Match};

const TOKEN_DETECTOR: &str = r#"
[[detector]]
id = "test-token"
name = "Test token"
description = "A prefixed token for engine tests."
keywords = ["tkn_"]
pattern = '''\b(?P<secret>tkn_[A-Za-z0-9]{32})\b'''
min_entropy = 3.0
confidence = "high"
examples = ["x = tkn_Q8a9Zk2LmP4rT7vW1yB3nC5dF6gH0jKs"]
non_examples = ["tkn_short"]
references = ["https://example.invalid/docs"]

[[detector]]
id = "test-assignment"
name = "Test assignment"
description = "A context-based secret for engine tests."
keywords = ["secret"]
pattern = '''(?i)\bsecret\\?["']?\s*[:=]\s*\\?["']?(?P<secret>[A-Za-z0-9+/]{20,40})'''
min_entropy = 3.5
confidence = "low"
examples = ["secret = 'Q8a9Zk2LmP4rT7vW1yB3nC5d'"]
non_examples = ["secret = 'aaaaaaaaaaaaaaaaaaaaaaaa'"]
references = ["https://example.invalid/docs"]

[[detector]]
id = "test-key-id"
name = "Test key id"
description = "First half of a two-part credential."
keywords = ["KID"]
pattern = '''\b(?P<secret>KID[0-9A-Z]{13})\b'''
confidence = "medium"
examples = ["KIDQ3EGRTYVU2B6P7N"]
non_examples = ["KID123"]
references = ["https://example.invalid/docs"]

[[detector]]
id = "test-key-secret"
name = "Test key secret"
description = "Second half of a two-part credential."
keywords = ["ksecret"]
pattern = '''ksecret\s*=\s*(?P<secret>[A-Za-z0-9]{24})\b'''
min_entropy = 3.0
confidence = "high"
examples = ["ksecret = Q8a9Zk2LmP4rT7vW1yB3nC5d"]
non_examples = ["ksecret = short"]
references = ["https://example.invalid/docs"]

[detector.companion]
detector = "test-key-id"
part = "key_id"
within = 200
absorb = true
"#;

fn engine() -> Engine {
    Engine::new(detectors(TOKEN_DETECTOR))
}

fn scan(engine: &Engine, blob: &[u8]) -> Vec<Match> {
    let mut scratch = engine.scratch();
    let mut out = Vec::new();
    engine.scan(blob, &mut scratch, &mut out);
    out
}

fn secrets<'b>(blob: &'b [u8], ms: &[Match]) -> Vec<&'b str> {
    ms.iter()
        .map(|m| std::str::from_utf8(&blob[m.secret.clone()]).expect("ascii"))
        .collect()
}

#[test]
fn secrets_at_the_very_start_and_end_of_a_blob() {
    let e = engine();
    let t = format!("tkn_{}", token(1, 32, ALNUM));
    assert_eq!(
        secrets(t.as_bytes(), &scan(&e, t.as_bytes())),
        vec![t.as_str()]
    );
    let blob = format!("{}\n{t}", "filler ".repeat(1000));
    let ms = scan(&e, blob.as_bytes());
    assert_eq!(secrets(blob.as_bytes(), &ms), vec![t.as_str()]);
    assert_eq!((ms[0].line, ms[0].column), (2, 1));
}

#[test]
fn a_secret_far_from_other_hits_and_one_crossing_a_window_edge() {
    let e = engine();
    // Windows are as wide as the longest match around each keyword hit; put
    // hits so that merged and separate windows both occur, and a secret that
    // starts right where an earlier window ends.
    let a = format!("tkn_{}", token(2, 32, ALNUM));
    let b = format!("tkn_{}", token(3, 32, ALNUM));
    let c = format!("tkn_{}", token(4, 32, ALNUM));
    let blob = format!("{a} {b}{}{c}", " ".repeat(36 - 1));
    let ms = scan(&e, blob.as_bytes());
    assert_eq!(
        secrets(blob.as_bytes(), &ms),
        vec![a.as_str(), b.as_str(), c.as_str()]
    );
    // A long run where the window is cut mid-token must not yield a partial token.
    let long = format!("tkn_{}", token(5, 80, ALNUM));
    assert!(
        scan(&e, long.as_bytes()).is_empty(),
        "a 80-char run is not a 32-char token"
    );
}

#[test]
fn entropy_and_placeholders_filter_candidates() {
    let e = engine();
    for quiet in [
        "secret = 'aaaaaaaaaaaaaaaaaaaaaaaa'",
        "secret = 'EXAMPLEKEYEXAMPLEKEY12'",
        "secret = 'xxxxxxxxxxxxxxxxxxxxxxxxxx'",
        "secret = 'abcdefghijklmnopqrstuvwx'",
    ] {
        assert!(scan(&e, quiet.as_bytes()).is_empty(), "{quiet}");
    }
    let loud = format!("secret = '{}'", token(6, 24, ALNUM));
    let ms = scan(&e, loud.as_bytes());
    assert_eq!(ms.len(), 1);
    assert!(ms[0].entropy > 3.5);
}

#[test]
fn line_and_column_on_crlf_and_non_utf8_input() {
    let e = engine();
    let t = format!("tkn_{}", token(7, 32, ALNUM));
    let mut blob: Vec<u8> = b"first\r\n\xff\xfe\xfd bad bytes\r\n  \xc3\x28 ".to_vec();
    blob.extend_from_slice(t.as_bytes());
    blob.extend_from_slice(b"\r\ntail");
    let ms = scan(&e, &blob);
    assert_eq!(ms.len(), 1);
    assert_eq!((ms[0].line, ms[0].column), (3, 6));
}

#[test]
fn secrets_inside_json_string_escapes() {
    let e = engine();
    let s = token(8, 24, ALNUM);
    let blob = format!(r#"{{"body": "{{\"secret\": \"{s}\"}}"}}"#);
    assert_eq!(
        secrets(blob.as_bytes(), &scan(&e, blob.as_bytes())),
        vec![s.as_str()]
    );
}

#[test]
fn keywords_are_case_insensitive_but_patterns_decide() {
    let e = engine();
    let s = token(9, 24, ALNUM);
    let blob = format!("SECRET: {s}");
    assert_eq!(
        secrets(blob.as_bytes(), &scan(&e, blob.as_bytes())),
        vec![s.as_str()]
    );
    let t = format!("TKN_{}", token(10, 32, ALNUM));
    assert!(
        scan(&e, t.as_bytes()).is_empty(),
        "the pattern is case-sensitive"
    );
}

#[test]
fn companions_pair_and_absorb() {
    let e = engine();
    let id = format!(
        "KID{}",
        token(11, 13, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    );
    let sec = token(12, 24, ALNUM);
    let near = format!("key_id = {id}\nksecret = {sec}\n");
    let ms = scan(&e, near.as_bytes());
    let ids: Vec<&str> = ms
        .iter()
        .map(|m| e.detectors()[m.detector as usize].id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["test-key-secret"],
        "the id is absorbed into the pair"
    );
    assert_eq!(&near.as_bytes()[ms[0].parts[0].span.clone()], id.as_bytes());
    assert_eq!(&*ms[0].parts[0].name, "key_id");
    let far = format!("key_id = {id}\n{}\nksecret = {sec}\n", "#".repeat(400));
    let ms = scan(&e, far.as_bytes());
    let ids: Vec<&str> = ms
        .iter()
        .map(|m| e.detectors()[m.detector as usize].id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["test-key-id", "test-key-secret"],
        "too far apart to pair"
    );
    assert!(ms.iter().all(|m| m.parts.is_empty()));
}

/// The prefilter may only skip work, never change results: run every
/// built-in detector's examples and a generated corpus with it on and off.
#[test]
fn prefilter_on_and_off_give_the_same_matches() {
    let set = leakhound::detector::DetectorSet::new(
        leakhound::detector::load_builtin().expect("built-ins load"),
    )
    .expect("unique ids");
    let on = EngineBuilder::new().prefilter(true).build(set.clone());
    let off = EngineBuilder::new().prefilter(false).build(set.clone());
    let mut corpus = String::new();
    for (i, d) in set.as_slice().iter().enumerate() {
        for ex in d.examples.iter().chain(&d.non_examples) {
            corpus.push_str(ex);
            corpus.push('\n');
            corpus.push_str(&format!("let v{i} = \"{}\";\n", token(i as u64, 40, ALNUM)));
        }
    }
    let blob = corpus.as_bytes();
    let a = scan(&on, blob);
    let b = scan(&off, blob);
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

/// `scan_ranges` is how a new version of a file is scanned for what changed:
/// only secrets overlapping a range are reported, keywords must lie in a
/// range, and positions are those of the whole blob.
#[test]
fn scan_ranges_reports_only_what_touches_the_ranges() {
    let e = engine();
    let old = format!("tkn_{}", token(20, 32, ALNUM));
    let new = format!("tkn_{}", token(21, 32, ALNUM));
    let blob = format!("a = {old}\nb = 1\nc = {new}\n");
    let new_line = blob.find("c = ").expect("line")..blob.len();
    let mut scratch = e.scratch();
    let mut out = Vec::new();
    e.scan_ranges(
        blob.as_bytes(),
        std::slice::from_ref(&new_line),
        &mut scratch,
        &mut out,
    );
    assert_eq!(secrets(blob.as_bytes(), &out), vec![new.as_str()]);
    assert_eq!((out[0].line, out[0].column), (3, 5));
    e.scan_ranges(blob.as_bytes(), &[], &mut scratch, &mut out);
    assert!(out.is_empty());
    let b_line = blob.find("b = ").expect("line")..blob.find("\nc = ").expect("line");
    e.scan_ranges(
        blob.as_bytes(),
        std::slice::from_ref(&b_line),
        &mut scratch,
        &mut out,
    );
    assert!(
        out.is_empty(),
        "the line above a range is searched for keywords, not reported"
    );
    let whole = 0..blob.len();
    e.scan_ranges(
        blob.as_bytes(),
        std::slice::from_ref(&whole),
        &mut scratch,
        &mut out,
    );
    assert_eq!(
        out,
        scan(&e, blob.as_bytes()),
        "one range over everything is a full scan"
    );
}

const CONTEXT_DETECTORS: &str = r#"
[[detector]]
id = "test-org-token"
name = "Test org token"
description = "A token that is verified against the org host written beside it."
keywords = ["otk_"]
pattern = '''\b(?P<secret>otk_[A-Za-z0-9]{32})\b'''
min_entropy = 3.0
confidence = "high"
examples = ["otk_Q8a9Zk2LmP4rT7vW1yB3nC5dF6gH0jKs"]
non_examples = ["otk_short"]
references = ["https://example.invalid/docs"]

[detector.companion]
detector = "test-org-host"
part = "host"
within = 200
absorb = true

[[detector]]
id = "test-org-host"
name = "Test org host"
description = "The host of an org: context, not a secret."
keywords = [".orgs.test"]
pattern = '''\b(?P<secret>[a-z0-9][a-z0-9-]{0,30}\.orgs\.test)\b'''
confidence = "low"
context_only = true
ignore_if = ['''^www\.''']
examples = ["url = https://globex-eu.orgs.test/api"]
non_examples = ["url = https://www.orgs.test/"]
references = ["https://example.invalid/docs"]
"#;

/// A context-only detector (an org's host) is never reported by itself;
/// its match is only ever attached as a part of the token it sits beside.
#[test]
fn context_only_matches_are_never_reported_but_attach_as_parts() {
    let set = detectors(CONTEXT_DETECTORS);
    let tok = format!("otk_{}", token(31, 32, ALNUM));
    let host = "globex-eu.orgs.test";
    for prefilter in [true, false] {
        let e = EngineBuilder::new().prefilter(prefilter).build(set.clone());
        let ids = |ms: &[Match]| -> Vec<String> {
            ms.iter()
                .map(|m| e.detectors()[m.detector as usize].id.to_string())
                .collect()
        };

        let alone = format!("ORG_URL=https://{host}\nother = https://acme.orgs.test/x\n");
        assert!(
            scan(&e, alone.as_bytes()).is_empty(),
            "prefilter {prefilter}: a context-only match alone is not reported"
        );

        let near = format!("ORG_URL=https://{host}\nORG_TOKEN={tok}\n");
        let ms = scan(&e, near.as_bytes());
        assert_eq!(ids(&ms), vec!["test-org-token"], "prefilter {prefilter}");
        assert_eq!(secrets(near.as_bytes(), &ms), vec![tok.as_str()]);
        assert_eq!(ms[0].parts.len(), 1);
        assert_eq!(&*ms[0].parts[0].name, "host");
        assert_eq!(
            &near.as_bytes()[ms[0].parts[0].span.clone()],
            host.as_bytes()
        );

        let far = format!(
            "ORG_URL=https://{host}\n{}\nORG_TOKEN={tok}\n",
            "#".repeat(400)
        );
        let ms = scan(&e, far.as_bytes());
        assert_eq!(
            ids(&ms),
            vec!["test-org-token"],
            "prefilter {prefilter}: too far to pair, and still not reported"
        );
        assert!(ms[0].parts.is_empty());
    }
}

/// `detectors check` runs a context-only detector's examples through the
/// real filters (its `ignore_if` here), though a scan never reports them;
/// and a context-only detector cannot carry a verifier or a companion.
#[test]
fn context_only_detectors_are_self_tested_and_take_no_verifier() {
    let set = detectors(CONTEXT_DETECTORS);
    let all: Vec<usize> = (0..set.len()).collect();
    let failures = leakhound::detector::check(&set, &all);
    assert!(failures.is_empty(), "{failures:?}");

    let broken = CONTEXT_DETECTORS.replace(
        "non_examples = [\"url = https://www.orgs.test/\"]",
        "non_examples = [\"url = https://globex-eu.orgs.test/\"]",
    );
    let failures = leakhound::detector::check(&detectors(&broken), &all);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].to_string().contains("test-org-host"));

    let with_verify = format!(
        "{CONTEXT_DETECTORS}\n[detector.verify]\nurl = \"https://{{{{secret}}}}/\"\nvalid_status = [200]\n"
    );
    let err = leakhound::detector::load_source(
        &leakhound::detector::DetectorSource::File("inline.toml".into()),
        &with_verify,
    )
    .expect_err("context_only with verify is rejected");
    assert!(format!("{err:?}").contains("context_only"), "{err:?}");
}

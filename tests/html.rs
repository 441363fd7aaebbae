//! `--format html` end to end: one standalone page that parses and holds
//! every finding and location, escapes what it shows, and loads nothing.

mod common;

use common::{bin, scan_json, GitFixture};

#[test]
fn html_report_is_standalone_and_contains_every_finding() {
    let mut repo = GitFixture::new();
    repo.write(
        "a.env",
        "GITHUB_TOKEN=ghp_Hm4Xk8Pq2Wz6Lr1Vt9Nb3Cy7Jd5Fs0Ga4Eu2\n",
    );
    repo.commit("first");
    repo.write(
        "b.py",
        "token = \"<script>ghp_Qz7Wx3Ke9Lm1Rt5Vb8Nc2Hy6Jd4Fs0Ga1Eu5\"\n",
    );
    repo.commit("second");
    let out = bin()
        .args(["scan", repo.root(), "--format", "html"])
        .output()
        .expect("runs");
    let html = String::from_utf8(out.stdout).expect("utf-8");
    let dom = tl::parse(&html, tl::ParserOptions::default()).expect("the report parses");
    let parser = dom.parser();
    // No external assets: no script, stylesheet link, image or iframe.
    for tag in ["script", "link", "img", "iframe"] {
        assert_eq!(
            dom.query_selector(tag).map_or(0, |q| q.count()),
            0,
            "<{tag}> in report"
        );
    }
    assert!(!html.contains("<script>ghp_"), "text is escaped");
    let (_, report, _) = scan_json(&[repo.root()]);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2);
    let rows = dom.query_selector("tr").expect("rows").count();
    // Totals tables and the findings table: more rows than findings.
    let text = dom
        .nodes()
        .iter()
        .filter_map(|n| n.as_tag())
        .filter(|t| t.name() == "code")
        .map(|t| t.inner_text(parser).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for f in findings {
        let secret = f["secret"].as_str().expect("secret");
        assert!(
            text.contains(&secret.replace("<", "&lt;")) || text.contains(secret),
            "{secret} missing"
        );
        for l in f["locations"].as_array().expect("locations") {
            assert!(text.contains(l["path"].as_str().expect("path")));
        }
    }
    assert!(rows > findings.len());
    assert!(
        html.contains("When secrets entered history"),
        "git scans get the history chart"
    );
    assert!(html.contains("<svg"));
}

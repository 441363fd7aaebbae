//! `--format html`: one standalone HTML file for audits — no external assets,
//! no script, readable offline and printable.
//!
//! Totals by detector, verification status and source; for git scans a chart
//! of when secrets entered history (by the month of their earliest commit)
//! and how many are still in HEAD; then every finding with its locations
//! (collapsed behind `<details>` when there are many).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::{self, Write},
};

use crate::{
    finding::{Finding, Location},
    scan::ScanStats,
};

/// Locations shown before the rest are collapsed.
const OPEN_LOCATIONS: usize = 3;
/// Height of the history chart's bars, in pixels.
const CHART_HEIGHT: usize = 120;

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#1d232a;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #d8dee4;padding-bottom:.3rem}
.meta{color:#57606a}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #d8dee4;border-radius:8px;padding:.6rem 1rem;min-width:9rem}.card b{display:block;font-size:1.5rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:1rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:.05rem .3rem;border-radius:4px;word-break:break-all}
.high{color:#b42318;font-weight:600}.medium{color:#9a6700;font-weight:600}.low{color:#0969da}
.valid{background:#ffebe9;color:#b42318;font-weight:700;padding:0 .3rem;border-radius:4px}
.tag{font-size:11px;border:1px solid #d8dee4;border-radius:10px;padding:0 .4rem;margin-left:.3rem;color:#57606a}
.head{color:#b42318;border-color:#b42318}.loc{margin:.15rem 0}.snip{color:#57606a;display:block;margin-left:1rem}
svg text{font:11px system-ui,sans-serif;fill:#57606a}details summary{cursor:pointer;color:#0969da}
";

/// Writes the HTML report.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_html(findings: &[Finding], stats: &ScanStats, out: &mut dyn Write) -> io::Result<()> {
    let mut h = String::with_capacity(16 << 10);
    let active: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    let locations: usize = findings.iter().map(|f| f.locations.len()).sum();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>leakhound report</title><style>{STYLE}</style></head><body>\
         <h1>leakhound report</h1><div class=\"meta\">leakhound {} · {} files/blobs · {} · {} ms · {} skipped</div>",
        env!("CARGO_PKG_VERSION"),
        stats.blobs_scanned,
        super::human_bytes(stats.bytes_scanned),
        stats.duration_ms,
        stats.skipped.len()
    );
    let in_head = findings
        .iter()
        .filter(|f| {
            f.locations
                .iter()
                .any(|l| matches!(l, Location::Git(g) if g.in_head))
        })
        .count();
    let valid = findings
        .iter()
        .filter(|f| f.verification.status == crate::finding::VerificationStatus::Valid)
        .count();
    h.push_str("<div class=\"cards\">");
    for (label, n) in [
        ("secrets", findings.len()),
        ("unsuppressed", active.len()),
        ("suppressed", findings.len() - active.len()),
        ("locations", locations),
        ("still in HEAD", in_head),
        ("verified valid", valid),
    ] {
        let _ = write!(h, "<div class=\"card\"><b>{n}</b>{label}</div>");
    }
    h.push_str("</div><div class=\"grid\">");
    totals(
        &mut h,
        "By detector",
        findings.iter().map(|f| f.detector.as_str().to_string()),
    );
    totals(
        &mut h,
        "By verification",
        findings
            .iter()
            .map(|f| f.verification.status.as_str().to_string()),
    );
    totals(
        &mut h,
        "By source (locations)",
        findings
            .iter()
            .flat_map(|f| f.locations.iter().map(|l| source(l).to_string())),
    );
    h.push_str("</div>");
    history_chart(&mut h, findings, in_head);
    h.push_str("<h2>Findings</h2><table><tr><th>Detector</th><th>Secret</th><th>Status</th><th>Locations</th></tr>");
    for f in findings {
        finding_row(&mut h, f);
    }
    h.push_str("</table></body></html>\n");
    out.write_all(h.as_bytes())
}

fn totals(h: &mut String, title: &str, keys: impl Iterator<Item = String>) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    let mut rows: Vec<(String, usize)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let _ = write!(h, "<div><h2>{}</h2><table>", esc(title));
    if rows.is_empty() {
        h.push_str("<tr><td>none</td></tr>");
    }
    for (k, n) in rows {
        let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{n}</td></tr>", esc(&k));
    }
    h.push_str("</table></div>");
}

/// Bars per month of each secret's earliest commit (git scans only).
fn history_chart(h: &mut String, findings: &[Finding], in_head: usize) {
    let mut dates: Vec<&str> = Vec::new();
    for f in findings {
        let first = f
            .locations
            .iter()
            .filter_map(|l| match l {
                Location::Git(g) => g.date.as_deref(),
                _ => None,
            })
            .min();
        if let Some(date) = first {
            dates.push(date);
        }
    }
    let years: Vec<u32> = dates
        .iter()
        .filter_map(|d| d.get(..4)?.parse().ok())
        .collect();
    let (Some(&lo), Some(&hi)) = (years.iter().min(), years.iter().max()) else {
        return;
    };
    // Years when history spans more than three, months otherwise; empty
    // buckets are drawn too, so the axis is a timeline.
    let by_year = hi - lo > 3;
    let mut buckets: BTreeMap<String, usize> = BTreeMap::new();
    if by_year {
        for y in lo..=hi {
            buckets.insert(y.to_string(), 0);
        }
    }
    for d in &dates {
        let key: String = d.chars().take(if by_year { 4 } else { 7 }).collect();
        *buckets.entry(key).or_default() += 1;
    }
    let by_month = buckets;
    let total = dates.len();
    let _ = write!(
        h,
        "<h2>When secrets entered history</h2><p class=\"meta\">{total} secrets by the {} of their earliest commit; {in_head} still in HEAD.</p>",
        if by_year { "year" } else { "month" }
    );
    let max = by_month.values().copied().max().unwrap_or(1).max(1);
    let bar = 18usize;
    let width = by_month.len() * (bar + 6) + 70;
    let _ = write!(
        h,
        "<svg role=\"img\" aria-label=\"secrets per month\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">",
        CHART_HEIGHT + 60,
        CHART_HEIGHT + 60
    );
    for (i, (month, n)) in by_month.iter().enumerate() {
        let height = (n * CHART_HEIGHT).div_ceil(max).max(usize::from(*n > 0));
        let x = 50 + i * (bar + 6);
        let y = 10 + CHART_HEIGHT - height;
        let _ = write!(
            h,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{height}\" fill=\"#cf222e\"><title>{}: {n}</title></rect>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text x=\"{}\" y=\"{}\" transform=\"rotate(-60 {} {})\" text-anchor=\"end\">{}</text>",
            esc(month),
            x + bar / 2,
            y.saturating_sub(3).max(9),
            if *n > 0 { n.to_string() } else { String::new() },
            x + bar / 2,
            CHART_HEIGHT + 24,
            x + bar / 2,
            CHART_HEIGHT + 24,
            esc(month)
        );
    }
    h.push_str("</svg>");
}

fn finding_row(h: &mut String, f: &Finding) {
    let st = f.verification.status.as_str();
    let st_html = if st == "valid" {
        "<span class=\"valid\">VALID</span>".to_string()
    } else {
        esc(st)
    };
    let suppressed = f
        .suppressed
        .as_ref()
        .map(|s| {
            format!(
                "<span class=\"tag\">suppressed: {}</span>",
                esc(&format!("{:?}", s.kind).to_lowercase())
            )
        })
        .unwrap_or_default();
    let _ = write!(
        h,
        "<tr><td><span class=\"{c}\">{c}</span> {}<br><small>{}</small>{suppressed}</td><td><code>{}</code></td><td>{st_html}</td><td>",
        esc(f.detector.as_str()),
        esc(&f.name),
        esc(&shorten(&f.secret, 80)),
        c = f.confidence.as_str(),
    );
    for (i, l) in f.locations.iter().enumerate() {
        if i == OPEN_LOCATIONS {
            let _ = write!(
                h,
                "<details><summary>{} more locations</summary>",
                f.locations.len() - OPEN_LOCATIONS
            );
        }
        location(h, l);
    }
    if f.locations.len() > OPEN_LOCATIONS {
        h.push_str("</details>");
    }
    h.push_str("</td></tr>");
}

fn location(h: &mut String, l: &Location) {
    h.push_str("<div class=\"loc\">");
    match l {
        Location::File(f) => {
            let _ = write!(
                h,
                "<code>{}:{}</code><span class=\"snip\">{}</span>",
                esc(&f.path),
                f.line,
                esc(&shorten(&f.snippet, 140))
            );
        }
        Location::Git(g) => {
            let commit = g
                .commit
                .as_deref()
                .map(|c| &c[..c.len().min(10)])
                .unwrap_or("staged/unreachable");
            let _ = write!(
                h,
                "<code>{}:{}</code> <small>{} {} {}</small>{}<span class=\"snip\">{}</span>",
                esc(&g.path),
                g.line,
                esc(commit),
                esc(g.author.as_deref().unwrap_or("")),
                esc(g.date.as_deref().unwrap_or("")),
                if g.in_head {
                    "<span class=\"tag head\">in HEAD</span>"
                } else {
                    "<span class=\"tag\">not in HEAD</span>"
                },
                esc(&shorten(&g.snippet, 140))
            );
        }
        Location::Postman(p) => {
            let _ = write!(
                h,
                "<code>{}</code> <code>{}</code> <small>{}{}{}</small><span class=\"snip\">{}</span>",
                esc(&p.path),
                esc(&p.json_pointer),
                esc(&p.field),
                p.request.as_deref().map(|r| format!(" in {}", esc(r))).unwrap_or_default(),
                p.via.as_deref().map(|v| format!(" via {{{{{}}}}}", esc(v))).unwrap_or_default(),
                esc(&shorten(&p.snippet, 140))
            );
        }
    }
    h.push_str("</div>");
}

fn source(l: &Location) -> &'static str {
    match l {
        Location::File(_) => "file",
        Location::Git(_) => "git",
        Location::Postman(_) => "postman",
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

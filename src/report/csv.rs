//! `--format csv`: one row per location, for spreadsheets and audits.

use std::io::{self, Write};

use crate::finding::{Finding, Location};

const HEADER: [&str; 16] = [
    "fingerprint",
    "detector",
    "name",
    "confidence",
    "verification",
    "secret",
    "source",
    "path",
    "line",
    "column",
    "commit",
    "author",
    "date",
    "in_head",
    "json_pointer",
    "field",
];

/// Writes a header row and one row per (finding, location).
///
/// # Errors
/// I/O errors of `out`.
pub fn write_csv(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for f in findings {
        let status = f.verification.status.as_str();
        for l in &f.locations {
            let (source, path, line, column) = match l {
                Location::File(x) => (
                    "file",
                    x.path.as_str(),
                    x.line.to_string(),
                    x.column.to_string(),
                ),
                Location::Git(x) => (
                    "git",
                    x.path.as_str(),
                    x.line.to_string(),
                    x.column.to_string(),
                ),
                Location::Postman(x) => ("postman", x.path.as_str(), String::new(), String::new()),
            };
            let (commit, author, date, in_head) = match l {
                Location::Git(g) => (
                    g.commit.as_deref().unwrap_or(""),
                    g.author.as_deref().unwrap_or(""),
                    g.date.as_deref().unwrap_or(""),
                    if g.in_head { "true" } else { "false" },
                ),
                _ => ("", "", "", ""),
            };
            let (pointer, field) = match l {
                Location::Postman(p) => (p.json_pointer.as_str(), p.field.as_str()),
                _ => ("", ""),
            };
            w.write_record([
                f.fingerprint.as_str(),
                f.detector.as_str(),
                f.name.as_str(),
                f.confidence.as_str(),
                status,
                f.secret.as_str(),
                source,
                path,
                &line,
                &column,
                commit,
                author,
                date,
                in_head,
                pointer,
                field,
            ])?;
        }
    }
    w.flush()
}

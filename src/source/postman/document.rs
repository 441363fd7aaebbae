//! Recognising and parsing one Postman export.

use std::borrow::Cow;

use serde_json::Value;

/// Deepest JSON nesting parsed. Real exports stay under 30 levels (each
/// folder adds two); far deeper input is hostile or broken and is refused
/// with its position before the parser, or the walk after it, could exhaust
/// a thread's stack.
pub const MAX_DEPTH: usize = 512;

/// Bytes sniffed for Postman markers when a file's name does not say.
const SNIFF: usize = 64 << 10;

/// What kind of export a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A collection, schema v2.0 or v2.1 (`info.schema`).
    Collection,
    /// A legacy v1 collection (`requests`, `order`, `folders`).
    CollectionV1,
    /// An environment export.
    Environment,
    /// A globals export.
    Globals,
    /// The data dump of "Export data" (collections, environments, globals,
    /// header presets in one file).
    Dump,
    /// A newman run report (`collection`, `environment`, `run.executions`).
    NewmanReport,
}

impl DocKind {
    /// A short name for reports and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Collection => "collection",
            DocKind::CollectionV1 => "collection-v1",
            DocKind::Environment => "environment",
            DocKind::Globals => "globals",
            DocKind::Dump => "dump",
            DocKind::NewmanReport => "newman-report",
        }
    }
}

/// One parsed export.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file it came from (relative to the scan root where one exists),
    /// or the API resource it was fetched as.
    pub path: String,
    /// What it is.
    pub kind: DocKind,
    /// The parsed JSON.
    pub root: Value,
    /// Whether invalid UTF-8 was replaced (U+FFFD) to parse it.
    pub lossy: bool,
}

/// Why a file could not be read as a Postman export. Names the position;
/// never quotes the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON (or truncated), at a position.
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message, without content.
        message: String,
    },
    /// Nested deeper than [`MAX_DEPTH`].
    #[error("JSON nested deeper than {MAX_DEPTH} levels at line {line} column {column}")]
    TooDeep {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Valid JSON, but not a Postman export.
    #[error("JSON, but not a Postman export (no collection schema, environment scope, v1 requests, dump or newman run)")]
    NotPostman,
}

/// Whether a file is a Postman export by name, or (for `.json` files) by the
/// markers an export carries near its start. Cheap: used by directory scans
/// to route files to this source.
pub fn looks_like_postman(path: &str, bytes: &[u8]) -> bool {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    if name.ends_with(".postman_collection.json")
        || name.ends_with(".postman_environment.json")
        || name.ends_with(".postman_globals.json")
        || name.ends_with(".postman_dump.json")
        || name.ends_with(".postman_collection")
        || name.ends_with(".postman_environment")
    {
        return true;
    }
    if !name.ends_with(".json") {
        return false;
    }
    let head = &bytes[..bytes.len().min(SNIFF)];
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    has(b"schema.getpostman.com")
        || has(b"schema.postman.com")
        || has(b"\"_postman_variable_scope\"")
        || has(b"\"_postman_exported_using\"")
}

/// Parses `bytes` as a Postman export named `path`.
///
/// # Errors
/// Invalid or too deeply nested JSON (with its position), or JSON that is not
/// a Postman export.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Document, ParseError> {
    // Windows editors save exports with a UTF-8 byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    check_depth(bytes)?;
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let root: Value = serde::Deserialize::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    let kind = kind_of(&root).ok_or(ParseError::NotPostman)?;
    Ok(Document {
        path: path.to_string(),
        kind,
        root,
        lossy,
    })
}

fn json_error(e: serde_json::Error) -> ParseError {
    // serde_json's Display appends " at line L column C"; keep the message only.
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    ParseError::Json {
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Refuses nesting deeper than [`MAX_DEPTH`] without recursion.
fn check_depth(bytes: &[u8]) -> Result<(), ParseError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut line_start) = (1usize, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::TooDeep {
                        line,
                        column: i - line_start + 1,
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
    }
    Ok(())
}

/// What kind of export `root` is, from its shape.
pub fn kind_of(root: &Value) -> Option<DocKind> {
    let obj = root.as_object()?;
    let schema = obj
        .get("info")
        .and_then(|i| i.get("schema"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if schema.contains("postman.com") || (obj.contains_key("info") && obj.contains_key("item")) {
        return Some(DocKind::Collection);
    }
    if let Some(scope) = obj.get("_postman_variable_scope").and_then(Value::as_str) {
        return Some(if scope == "globals" {
            DocKind::Globals
        } else {
            DocKind::Environment
        });
    }
    if obj.contains_key("collections")
        && (obj.contains_key("environments")
            || obj.contains_key("globals")
            || obj.contains_key("version"))
    {
        return Some(DocKind::Dump);
    }
    if obj.contains_key("requests") && (obj.contains_key("order") || obj.contains_key("folders")) {
        return Some(DocKind::CollectionV1);
    }
    if obj.contains_key("run") && obj.contains_key("collection") {
        return Some(DocKind::NewmanReport);
    }
    // An API response wraps the export: {"collection": {...}} / {"environment": {...}}.
    if obj.len() == 1 {
        if let Some(inner) = obj.get("collection").or_else(|| obj.get("environment")) {
            return kind_of(inner);
        }
    }
    if obj.contains_key("values")
        && obj.contains_key("name")
        && obj.get("values").is_some_and(Value::is_array)
    {
        return Some(DocKind::Environment);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_with_its_position() {
        let deep = "[".repeat(10_000);
        match parse("x.json", deep.as_bytes()) {
            Err(ParseError::TooDeep { line: 1, column }) => assert_eq!(column, MAX_DEPTH + 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_json_names_its_position() {
        let err = parse("x.json", b"{\"info\": {\n \"name\": \"a").unwrap_err();
        assert!(matches!(err, ParseError::Json { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn kinds_are_recognised() {
        let cases = [
            (
                r#"{"info":{"schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[]}"#,
                DocKind::Collection,
            ),
            (
                r#"{"name":"e","values":[],"_postman_variable_scope":"environment"}"#,
                DocKind::Environment,
            ),
            (
                r#"{"name":"g","values":[],"_postman_variable_scope":"globals"}"#,
                DocKind::Globals,
            ),
            (
                r#"{"id":"1","name":"c","order":[],"requests":[]}"#,
                DocKind::CollectionV1,
            ),
            (
                r#"{"version":1,"collections":[],"environments":[]}"#,
                DocKind::Dump,
            ),
            (
                r#"{"collection":{"info":{},"item":[]},"run":{}}"#,
                DocKind::NewmanReport,
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(
                parse("x.json", text.as_bytes()).map(|d| d.kind),
                Ok(kind),
                "{text}"
            );
        }
        assert_eq!(
            parse("x.json", b"{\"a\": 1}").map(|d| d.kind),
            Err(ParseError::NotPostman)
        );
    }

    #[test]
    fn invalid_utf8_is_parsed_lossily() {
        let mut bytes = br#"{"name":"e","_postman_variable_scope":"environment","values":[{"key":"k","value":"a"#.to_vec();
        bytes.push(0xff);
        bytes.extend_from_slice(br#""}]}"#);
        let doc = parse("x.json", &bytes).unwrap();
        assert!(doc.lossy);
    }
}

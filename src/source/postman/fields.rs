//! Walking a parsed export into fields: every string, with where it is and
//! what it means.
//!
//! Every string leaf becomes a [`Field`] — nothing is skipped because its
//! place is unknown — and the walker recognises the places that matter:
//! auth blocks (v2.0 attribute maps, v2.1 and v1 `[{key, value}]` lists, v1
//! `helperAttributes`), headers, query and path parameters, URLs, bodies,
//! variables, environment and globals values, scripts, saved responses,
//! descriptions and certificate passphrases. Variable definitions are
//! recorded with their scope so `{{name}}` uses can be resolved.

use std::{collections::HashMap, sync::Arc};

use serde_json::{Map, Value};

use super::{
    document::{DocKind, Document},
    semantics::{header_is_credential, is_auth_secret, key_looks_secret, Sensitivity},
};

/// One string in an export.
#[derive(Debug, Clone)]
pub struct Field {
    /// RFC 6901 pointer to the string.
    pub pointer: String,
    /// `Folder / Sub-folder / Request` for fields inside a request (or a
    /// folder), `None` at collection or file level.
    pub request: Option<Arc<str>>,
    /// What the field is: `auth.basic.password`, `header`, `url.raw`,
    /// `env.value`, `script.test`, ... (`other.<key>` when unrecognised).
    pub kind: String,
    /// The name that labels the value (header name, variable key, auth
    /// attribute), when there is one.
    pub name: Option<String>,
    /// The string.
    pub value: String,
    /// What the kind implies about the value.
    pub sensitivity: Sensitivity,
    /// The pointer of the request (or auth block's owner) the field belongs
    /// to: values of one group can pair (an AWS key id with its secret).
    pub group: Arc<str>,
    /// The pointer of the collection the field is in, for variable scope.
    pub collection: Option<Arc<str>>,
}

/// Where a variable definition applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A globals export (or a dump's / report's globals).
    Global,
    /// An environment.
    Environment,
    /// A collection's `variable` list; the collection's pointer.
    Collection(Arc<str>),
    /// A folder's or request's `variable` list; the item's pointer.
    Item(Arc<str>),
}

/// A variable definition: `name` has the value of `fields[field]`.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The variable's name.
    pub name: String,
    /// Index of the value's field in [`Extracted::fields`].
    pub field: usize,
    /// Where it applies.
    pub scope: Scope,
}

/// What one export holds.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Every string leaf, in document order.
    pub fields: Vec<Field>,
    /// Every variable definition.
    pub definitions: Vec<Definition>,
}

/// Walks `doc` into fields and definitions. Iterative over arrays and
/// objects' children, recursive in depth (bounded by
/// [`super::document::MAX_DEPTH`]).
pub fn extract(doc: &Document) -> Extracted {
    let mut w = Walker {
        kind: doc.kind,
        out: Extracted::default(),
        pointer: String::new(),
        tokens: Vec::new(),
        v1_folders: v1_folder_names(&doc.root),
    };
    let ctx = Ctx {
        request: Vec::new(),
        group: Arc::from(""),
        collection: None,
        listen: None,
    };
    w.value(&doc.root, None, &ctx);
    w.out
}

/// Inherited context of a position in the document.
#[derive(Debug, Clone)]
struct Ctx {
    request: Vec<Arc<str>>,
    group: Arc<str>,
    collection: Option<Arc<str>>,
    listen: Option<String>,
}

struct Walker {
    kind: DocKind,
    out: Extracted,
    pointer: String,
    tokens: Vec<String>,
    /// v1: request id → folder name.
    v1_folders: HashMap<String, String>,
}

impl Walker {
    fn value(&mut self, v: &Value, parent: Option<&Map<String, Value>>, ctx: &Ctx) {
        match v {
            Value::String(s) => self.leaf(s, parent, ctx),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.push(&i.to_string());
                    self.value(item, None, ctx);
                    self.pop();
                }
            }
            Value::Object(map) if is_buffer(map) => {
                // newman stores response bodies as `{"type": "Buffer", "data": [bytes]}`.
                let bytes: Vec<u8> = map["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect();
                let text = String::from_utf8_lossy(&bytes).into_owned();
                self.out.fields.push(Field {
                    pointer: self.pointer.clone(),
                    request: request_path(ctx),
                    kind: "response.body".into(),
                    name: None,
                    value: text,
                    sensitivity: Sensitivity::Text,
                    group: ctx.group.clone(),
                    collection: ctx.collection.clone(),
                });
            }
            Value::Object(map) => {
                let ctx = self.enter(map, ctx);
                for (k, child) in map {
                    self.push(k);
                    self.value(child, Some(map), &ctx);
                    self.pop();
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, token: &str) {
        self.pointer.push('/');
        for c in token.chars() {
            match c {
                '~' => self.pointer.push_str("~0"),
                '/' => self.pointer.push_str("~1"),
                c => self.pointer.push(c),
            }
        }
        self.tokens.push(token.to_string());
    }

    fn pop(&mut self) {
        if let Some(t) = self.tokens.pop() {
            let escaped = t.matches(['~', '/']).count();
            self.pointer
                .truncate(self.pointer.len() - t.len() - escaped - 1);
        }
    }

    /// Updates the context on entering an object: collections, folders and
    /// requests, script events.
    fn enter(&self, map: &Map<String, Value>, ctx: &Ctx) -> Ctx {
        let mut ctx = ctx.clone();
        let name = map.get("name").and_then(Value::as_str);
        let parent_token = self
            .tokens
            .len()
            .checked_sub(2)
            .map(|i| self.tokens[i].as_str());
        let is_collection_root = (map.contains_key("info") && map.contains_key("item"))
            || (map.contains_key("requests")
                && (map.contains_key("order") || map.contains_key("folders")));
        if is_collection_root {
            ctx.collection = Some(Arc::from(self.pointer.as_str()));
            ctx.request.clear();
            ctx.group = Arc::from(self.pointer.as_str());
        } else if let (Some(name), Some("item" | "requests" | "executions")) = (name, parent_token)
        {
            if parent_token == Some("requests") {
                if let Some(folder) = map
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.v1_folders.get(id))
                {
                    ctx.request.push(Arc::from(folder.as_str()));
                }
            }
            ctx.request.push(Arc::from(name));
            ctx.group = Arc::from(self.pointer.as_str());
        } else if parent_token == Some("executions") {
            // newman: executions[].item.name names the request.
            if let Some(n) = map
                .get("item")
                .and_then(|i| i.get("name"))
                .and_then(Value::as_str)
            {
                ctx.request.push(Arc::from(n));
            }
            ctx.group = Arc::from(self.pointer.as_str());
        }
        if let Some(listen) = map.get("listen").and_then(Value::as_str) {
            ctx.listen = Some(listen.to_string());
        }
        ctx
    }

    fn token(&self, back: usize) -> Option<&str> {
        self.tokens
            .len()
            .checked_sub(back + 1)
            .map(|i| self.tokens[i].as_str())
    }

    fn in_path(&self, t: &str) -> bool {
        self.tokens.iter().any(|x| x == t)
    }

    fn leaf(&mut self, s: &str, parent: Option<&Map<String, Value>>, ctx: &Ctx) {
        let Some(key) = self.token(0).map(str::to_string) else {
            return;
        };
        let (kind, name, sensitivity, scope) = self.classify(&key, parent, ctx);
        let field = Field {
            pointer: self.pointer.clone(),
            request: request_path(ctx),
            kind,
            name: name.clone(),
            value: s.to_string(),
            sensitivity,
            group: ctx.group.clone(),
            collection: ctx.collection.clone(),
        };
        self.out.fields.push(field);
        if let (Some(scope), Some(name)) = (scope, name) {
            self.out.definitions.push(Definition {
                name,
                field: self.out.fields.len() - 1,
                scope,
            });
        }
    }

    /// The kind, label, sensitivity and (for variable values) scope of the
    /// string at the current position.
    fn classify(
        &self,
        key: &str,
        parent: Option<&Map<String, Value>>,
        ctx: &Ctx,
    ) -> (String, Option<String>, Sensitivity, Option<Scope>) {
        let text = |kind: &str| (kind.to_string(), None, Sensitivity::Text, None);
        let str_of = |k: &str| parent.and_then(|p| p.get(k)).and_then(Value::as_str);
        let auth_at = self.tokens.iter().rposition(|t| t == "auth");

        // Auth blocks: map form `auth/<type>/<attr>`, list form
        // `auth/<type>/<i>/value` with a sibling `key`.
        if let Some(a) = auth_at {
            if let Some(auth_type) = self.tokens.get(a + 1).filter(|t| *t != "type") {
                let attr = if key == "value" && self.tokens.len() == a + 4 {
                    str_of("key")
                } else if self.tokens.len() == a + 3 {
                    Some(key)
                } else {
                    None
                };
                if let Some(attr) = attr {
                    return auth_attribute(auth_type, attr);
                }
            }
        }
        // v1 `helperAttributes: {id: "basic", username, password}`.
        if self.token(1) == Some("helperAttributes") {
            return auth_attribute(str_of("id").unwrap_or("unknown"), key);
        }

        // `{key, value}` and `{name, value}` entries of a list.
        if key == "value" && self.token(1).is_some_and(|t| t.parse::<usize>().is_ok()) {
            let container = self.token(2).unwrap_or("");
            if let Some(name) = str_of("key").or_else(|| str_of("name")) {
                return self.entry(container, name, parent, ctx);
            }
        }

        let in_response = self.in_path("response") || self.in_path("responses");
        let in_original = self.in_path("originalRequest");
        match key {
            "passphrase" => (
                "certificate.passphrase".into(),
                Some(key.into()),
                Sensitivity::Credential,
                None,
            ),
            "url" => text(if in_response && !in_original {
                "response.url"
            } else {
                "url.raw"
            }),
            "raw" if self.token(1) == Some("url") => text("url.raw"),
            "raw" | "rawModeData" => text("body.raw"),
            "query" | "variables" if self.token(1) == Some("graphql") => text("body.graphql"),
            "content" if self.token(1) == Some("file") => text("body.file"),
            "exec" => text(&self.script_kind(ctx)),
            _ if self.token(1) == Some("exec") => text(&self.script_kind(ctx)),
            "preRequestScript" => text("script.prerequest"),
            "tests" => text("script.test"),
            "body" | "text" if in_response => text("response.body"),
            "description" => text("description"),
            "content" if self.token(1) == Some("description") => text("description"),
            "headers" => text(if in_response {
                "response.header"
            } else {
                "header.raw"
            }),
            _ => {
                let kind = format!("other.{key}");
                if key_looks_secret(key) {
                    (kind, Some(key.to_string()), Sensitivity::Named, None)
                } else {
                    (kind, None, Sensitivity::Plain, None)
                }
            }
        }
    }

    /// A `{key|name, value}` entry in a list called `container`.
    fn entry(
        &self,
        container: &str,
        name: &str,
        parent: Option<&Map<String, Value>>,
        ctx: &Ctx,
    ) -> (String, Option<String>, Sensitivity, Option<Scope>) {
        let named = if key_looks_secret(name) {
            Sensitivity::Named
        } else {
            Sensitivity::Plain
        };
        let in_response = self.in_path("response") || self.in_path("responses");
        let in_original = self.in_path("originalRequest");
        let (kind, sensitivity, scope): (String, Sensitivity, Option<Scope>) = match container {
            "header" | "headers" | "headerData" => {
                let kind = if in_original {
                    "response.originalRequest.header"
                } else if in_response {
                    "response.header"
                } else {
                    "header"
                };
                let s = if header_is_credential(name) {
                    Sensitivity::Credential
                } else {
                    named
                };
                (kind.into(), s, None)
            }
            "cookie" | "cookies" => (
                if in_response {
                    "response.cookie"
                } else {
                    "cookie"
                }
                .into(),
                Sensitivity::Named,
                None,
            ),
            "query" | "queryParams" => ("query".into(), named, None),
            "variable" if self.token(3) == Some("url") => ("url.variable".into(), named, None),
            "pathVariableData" => ("url.variable".into(), named, None),
            "variable" | "variables" => {
                let at_root = ctx.collection.as_deref() == Some(self.parent_pointer(3));
                if at_root {
                    let root = ctx.collection.clone().unwrap_or_else(|| Arc::from(""));
                    (
                        "variable.collection".into(),
                        named,
                        Some(Scope::Collection(root)),
                    )
                } else {
                    let item: Arc<str> = Arc::from(self.parent_pointer(3));
                    ("variable.item".into(), named, Some(Scope::Item(item)))
                }
            }
            "values" | "globals" => {
                let global = self.kind == DocKind::Globals || self.in_path("globals");
                let secret =
                    parent.and_then(|p| p.get("type")).and_then(Value::as_str) == Some("secret");
                let s = if secret {
                    Sensitivity::Credential
                } else {
                    named
                };
                if global {
                    ("globals.value".into(), s, Some(Scope::Global))
                } else {
                    ("env.value".into(), s, Some(Scope::Environment))
                }
            }
            "urlencoded" | "data" => ("body.urlencoded".into(), named, None),
            "formdata" => ("body.formdata".into(), named, None),
            other => (format!("other.{other}"), named, None),
        };
        (kind, Some(name.to_string()), sensitivity, scope)
    }

    /// The pointer `up` tokens above the current position.
    fn parent_pointer(&self, up: usize) -> &str {
        let mut p = self.pointer.as_str();
        for _ in 0..up {
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return "",
            }
        }
        p
    }

    fn script_kind(&self, ctx: &Ctx) -> String {
        match ctx.listen.as_deref() {
            Some("prerequest") => "script.prerequest".into(),
            Some("test") => "script.test".into(),
            Some(other) => format!("script.{other}"),
            None => "script".into(),
        }
    }
}

/// Attribute `attr` of an auth block of type `auth_type`: its kind, label,
/// and whether the auth type makes it a credential.
fn auth_attribute(
    auth_type: &str,
    attr: &str,
) -> (String, Option<String>, Sensitivity, Option<Scope>) {
    let sensitivity = if attr != "id" && is_auth_secret(auth_type, attr) {
        Sensitivity::Credential
    } else {
        Sensitivity::Plain
    };
    (
        format!("auth.{auth_type}.{attr}"),
        Some(attr.to_string()),
        sensitivity,
        None,
    )
}

/// `Folder / Sub-folder / Request` of a context, if inside a request.
fn request_path(ctx: &Ctx) -> Option<Arc<str>> {
    (!ctx.request.is_empty()).then(|| {
        Arc::from(
            ctx.request
                .iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(" / "),
        )
    })
}

/// A serialized Node.js Buffer (`{"type": "Buffer", "data": [...]}`).
fn is_buffer(map: &Map<String, Value>) -> bool {
    map.get("type").and_then(Value::as_str) == Some("Buffer")
        && map.get("data").is_some_and(Value::is_array)
}

/// v1 collections list folders with the ids of their requests: request id
/// → folder name, so a request's path includes its folder.
fn v1_folder_names(root: &Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut collect = |coll: &Value| {
        for folder in coll
            .get("folders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = folder.get("name").and_then(Value::as_str) else {
                continue;
            };
            for id in folder
                .get("order")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = id.as_str() {
                    out.insert(id.to_string(), name.to_string());
                }
            }
        }
    };
    collect(root);
    for coll in root
        .get("collections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(coll);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::postman::parse;

    fn fields(json: &str) -> Extracted {
        extract(&parse("t.json", json.as_bytes()).unwrap())
    }

    fn find<'a>(x: &'a Extracted, pointer: &str) -> &'a Field {
        x.fields
            .iter()
            .find(|f| f.pointer == pointer)
            .unwrap_or_else(|| panic!("no field at {pointer}"))
    }

    #[test]
    fn auth_both_encodings_and_request_paths() {
        let x = fields(
            r#"{"info":{"schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "auth":{"type":"bearer","bearer":[{"key":"token","value":"t0"}]},
            "item":[{"name":"F","item":[{"name":"R","request":{
              "auth":{"type":"basic","basic":{"username":"u","password":"p"}},
              "header":[{"key":"X-Api-Key","value":"h"}],
              "url":{"raw":"https://x/a~b","query":[{"key":"token","value":"q"}]}}}]}],
            "variable":[{"key":"apiSecret","value":"v"}]}"#,
        );
        let f = find(&x, "/auth/bearer/0/value");
        assert_eq!(
            (f.kind.as_str(), f.sensitivity, f.request.is_none()),
            ("auth.bearer.token", Sensitivity::Credential, true)
        );
        let f = find(&x, "/item/0/item/0/request/auth/basic/password");
        assert_eq!(f.kind, "auth.basic.password");
        assert_eq!(f.request.as_deref(), Some("F / R"));
        assert_eq!(
            find(&x, "/item/0/item/0/request/auth/basic/username").sensitivity,
            Sensitivity::Plain
        );
        let f = find(&x, "/item/0/item/0/request/header/0/value");
        assert_eq!(
            (f.kind.as_str(), f.sensitivity),
            ("header", Sensitivity::Credential)
        );
        assert_eq!(
            find(&x, "/item/0/item/0/request/url/query/0/value").kind,
            "query"
        );
        assert_eq!(find(&x, "/item/0/item/0/request/url/raw").kind, "url.raw");
        let f = find(&x, "/variable/0/value");
        assert_eq!(f.kind, "variable.collection");
        assert_eq!(x.definitions.len(), 1);
        assert_eq!(x.definitions[0].scope, Scope::Collection(Arc::from("")));
    }

    #[test]
    fn newman_buffers_are_decoded_response_bodies() {
        let x = fields(
            r#"{"collection":{"info":{},"item":[]},"run":{"executions":[{"item":{"name":"Login"},
            "response":{"stream":{"type":"Buffer","data":[123,34,116,34,125]}}}]}}"#,
        );
        let f = find(&x, "/run/executions/0/response/stream");
        assert_eq!(
            (f.kind.as_str(), f.value.as_str()),
            ("response.body", "{\"t\"}")
        );
        assert_eq!(f.request.as_deref(), Some("Login"));
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let x = fields(
            r#"{"name":"e","_postman_variable_scope":"environment","values":[],"a/b":{"c~d":"x"}}"#,
        );
        assert!(x.fields.iter().any(|f| f.pointer == "/a~1b/c~0d"));
    }
}

//! What a field's name and kind say about its value.
//!
//! A value in a field whose *meaning* is a credential is a finding even when
//! it matches no provider format: a basic-auth password, a bearer token, an
//! `X-API-Key` header, a variable named `apiSecret`. This module decides that
//! meaning from names, pulls candidate values out of free text (scripts,
//! bodies, descriptions, URLs, raw header blocks) and rejects placeholders.

use std::ops::Range;

use regex_automata::meta::Regex;

use crate::{
    detector::Confidence,
    engine::filter::{shannon_entropy, PlaceholderFilter},
};

/// How strongly a field's kind implies that its value is a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sensitivity {
    /// No credential meaning; only provider formats are looked for.
    Plain,
    /// Free text (script, body, description, URL): provider formats, plus
    /// `name = value` pairs whose name looks like a secret.
    Text,
    /// A value whose name looks like a secret (`apiSecret`, `token`).
    Named,
    /// A value whose field is a credential by definition (a basic-auth
    /// password, a bearer token, an `Authorization` header, a `type: secret`
    /// environment value, a certificate passphrase).
    Credential,
}

/// Whether attribute `attr` of an auth block of type `auth_type` holds a
/// secret (as opposed to a user name, region or algorithm).
pub fn is_auth_secret(auth_type: &str, attr: &str) -> bool {
    let attr = normalize(attr);
    match auth_type.to_ascii_lowercase().as_str() {
        "apikey" => attr == "value",
        "awsv4" | "awssigv4" => matches!(attr.as_str(), "secretkey" | "sessiontoken"),
        "basic" | "digest" | "ntlm" => attr == "password",
        "bearer" => attr == "token",
        "edgegrid" => matches!(
            attr.as_str(),
            "clientsecret" | "accesstoken" | "clienttoken"
        ),
        "hawk" => attr == "authkey",
        "oauth1" => matches!(
            attr.as_str(),
            "consumersecret" | "tokensecret" | "privatekey"
        ),
        "oauth2" => matches!(
            attr.as_str(),
            "accesstoken" | "refreshtoken" | "clientsecret" | "password" | "idtoken"
        ),
        "jwt" => matches!(attr.as_str(), "secret" | "privatekey"),
        "asap" => attr == "privatekey",
        "akamai" => attr == "clientsecret",
        _ => key_looks_secret(&attr),
    }
}

/// Header names that carry a credential whatever their value looks like.
pub fn header_is_credential(name: &str) -> bool {
    matches!(
        normalize(name).as_str(),
        "authorization"
            | "proxyauthorization"
            | "cookie"
            | "xapikey"
            | "apikey"
            | "xauthtoken"
            | "xaccesstoken"
            | "privatetoken"
            | "xapitoken"
            | "xsecret"
            | "ocpapimsubscriptionkey"
    )
}

/// Whether a variable, parameter or header *name* says its value is secret:
/// `password`, `apiSecret`, `access_token`, `X-API-Key`, `client_secret`;
/// not `token_type`, `tokenUrl`, `public_key`, `key_id`.
pub fn key_looks_secret(name: &str) -> bool {
    let n = normalize(name);
    if n.is_empty() || n.len() > 64 {
        return false;
    }
    const NOT_SECRET_SUFFIX: &[&str] = &[
        "type",
        "url",
        "uri",
        "endpoint",
        "name",
        "names",
        "expires",
        "expiry",
        "expiresin",
        "expiration",
        "expiresat",
        "ttl",
        "length",
        "format",
        "method",
        "location",
        "path",
        "prefix",
        "mode",
        "hint",
        "header",
        "placeholder",
        "field",
        "param",
        "id",
        "ids",
        "count",
        "enabled",
        "required",
        "label",
        "version",
        "scope",
        "scopes",
        "addtokento",
        "lifetime",
        "timeout",
        "host",
        "domain",
        "algorithm",
        "description",
        "status",
    ];
    const NOT_SECRET: &[&str] = &[
        "publickey",
        "publishablekey",
        "idempotencykey",
        "sortkey",
        "partitionkey",
        "cachekey",
        "primarykey",
        "foreignkey",
        "keyboard",
        "monkey",
        "turkey",
        "hockey",
        "donkey",
        "key",
        "tokens",
        "author",
        "authority",
        "authenticated",
        "authentication",
        "authors",
        "nextpagetoken",
        "pagetoken",
        "continuationtoken",
        "csrftoken",
        "xsrftoken",
        "passwordpolicy",
        "forgotpassword",
        "resetpassword",
        "passwordreset",
        "postmantoken",
        "xcsrftoken",
        "xxsrftoken",
        "requestverificationtoken",
    ];
    if NOT_SECRET.contains(&n.as_str())
        || NOT_SECRET_SUFFIX.iter().any(|s| n.ends_with(s) && n != *s)
    {
        return false;
    }
    const SECRET_PARTS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
        "authkey",
        "authorization",
        "credential",
        "sessionid",
        "cookie",
        "bearer",
        "jwt",
        "signingkey",
        "masterkey",
        "encryptionkey",
        "subscriptionkey",
        "licensekey",
        "clientkey",
        "appkey",
        "serverkey",
        "webhook",
    ];
    if SECRET_PARTS.iter().any(|p| n.contains(p)) || n.ends_with("pat") {
        return true;
    }
    // `stripeKey`, `partner_key`: "key" after a word that makes it a
    // credential (not `addressKey`, `sortKey`, `shippingMethodKey`).
    const KEY_OWNERS: &[&str] = &[
        "api",
        "access",
        "secret",
        "private",
        "auth",
        "client",
        "app",
        "server",
        "master",
        "signing",
        "encryption",
        "subscription",
        "license",
        "service",
        "partner",
        "developer",
        "account",
        "admin",
        "x",
        "stripe",
        "sendgrid",
        "mailgun",
        "twilio",
        "google",
        "maps",
        "openai",
        "firebase",
        "algolia",
        "hmac",
        "shared",
        "integration",
        "merchant",
    ];
    n.strip_suffix("key")
        .is_some_and(|owner| KEY_OWNERS.iter().any(|o| owner.ends_with(o)))
}

/// Cookie names that carry a session or an auth token (not analytics, locale
/// or consent cookies).
pub fn cookie_is_session(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    const ANALYTICS: &[&str] = &[
        "gr_",
        "_ga",
        "_gid",
        "_gat",
        "_gs",
        "hm_",
        "_hj",
        "ajs_",
        "mp_",
        "_fbp",
        "amplitude",
        "__utm",
        "_gcl",
        "optimizely",
        "_pk_",
        "intercom-",
    ];
    if ANALYTICS.iter().any(|p| lower.starts_with(p)) {
        return false;
    }
    let n = normalize(name);
    [
        "sess", "sid", "auth", "token", "jwt", "login", "remember", "identity", "access", "refresh",
    ]
    .iter()
    .any(|p| n.contains(p))
}

/// Authorization values that are per-request signatures or handshakes
/// (Digest, Hawk, OAuth 1.0 parameters, NTLM, Negotiate, AWS SigV4, EdgeGrid),
/// not reusable credentials.
pub fn is_signature_auth(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    [
        "digest ",
        "hawk ",
        "ntlm ",
        "negotiate ",
        "aws4-hmac-sha256",
        "eg1-hmac-sha256",
        "oauth oauth_",
        "oauth realm=",
    ]
    .iter()
    .any(|s| v.starts_with(s))
        || v.starts_with("oauth_")
}

/// Lowercase ASCII letters and digits only: `X-API-Key` → `xapikey`.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The credential inside a header-style value: the part after an
/// authorization scheme (`Bearer abc` → `abc`), or the whole value.
pub fn strip_scheme(value: &str) -> Range<usize> {
    let trimmed_start = value.len() - value.trim_start().len();
    let v = value.trim();
    let end = trimmed_start + v.len();
    for scheme in [
        "bearer", "basic", "token", "apikey", "api-key", "key", "jwt", "sso-key", "ssws", "oauth",
    ] {
        if v.len() > scheme.len() + 1
            && v[..scheme.len()].eq_ignore_ascii_case(scheme)
            && v.as_bytes()[scheme.len()] == b' '
        {
            let rest = &v[scheme.len()..];
            let start = trimmed_start + scheme.len() + (rest.len() - rest.trim_start().len());
            return start..end;
        }
    }
    trimmed_start..end
}

/// Values that are documentation, not credentials.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "changeme",
    "change_me",
    "example",
    "sample",
    "dummy",
    "test",
    "testing",
    "demo",
    "admin",
    "root",
    "guest",
    "user",
    "username",
    "null",
    "none",
    "undefined",
    "string",
    "value",
    "true",
    "false",
    "bearer",
    "basic",
    "your_token",
    "mytoken",
    "mypassword",
    "pass",
    "pass123",
    "password123",
    "secret123",
    "123456",
    "12345678",
    "qwerty",
    "letmein",
    "default",
    "empty",
    "redacted",
    "removed",
    "hidden",
    "private",
    "key",
    "abc",
    "abc123",
    "foo",
    "bar",
    "foobar",
    "baz",
    "asdf",
    "asdfgh",
    "qwer",
    "test123",
    "test1234",
    "testtest",
    "secret1",
    "admin123",
    "administrator",
    "system",
    "unknown",
    "n/a",
    "na",
    "tbd",
    "todo",
];

/// Words that make a short value documentation (`super-secret-value`,
/// `Password123!`, `paste-reset-token-here`) rather than a credential.
const PLACEHOLDER_PARTS: &[&str] = &[
    "password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "test", "demo",
    "sample", "dummy", "fake", "here", "paste", "change", "value", "key", "redacted", "foo",
    "example",
];

/// Decides whether a candidate value is a credential worth reporting, and
/// how confidently.
#[derive(Debug, Clone, Default)]
pub struct ValueJudge {
    placeholders: PlaceholderFilter,
}

impl ValueJudge {
    /// Whether `value` is a placeholder: empty, a `{{variable}}`, `<token>`,
    /// `xxxx`, `your-api-key`, `${ENV}`, a masked or documentation value.
    pub fn is_placeholder(&self, value: &str) -> bool {
        let v = value.trim().trim_matches(['"', '\'']);
        let lower = v.to_ascii_lowercase();
        v.is_empty()
            || v.contains("{{")
            || v.contains("}}")
            || (v.starts_with('<') && v.ends_with('>'))
            || (v.starts_with('[') && v.ends_with(']'))
            || v.starts_with("${")
            || v.starts_with("$(")
            || v.starts_with('$')
                && v[1..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || v.starts_with(":") && v.len() < 30
            || lower.contains("your")
            || lower.contains("xxxx")
            || lower.contains("****")
            || lower.contains("••")
            || lower.contains("...")
            || lower.contains("insert")
            || lower.contains("replace")
            || lower.contains("placeholder")
            || lower.contains("example")
            || lower.contains("process.env")
            || lower.starts_with("pm.")
            || lower.starts_with("postman.")
            || PLACEHOLDER_WORDS.contains(&lower.as_str())
            || (v.len() <= 32 && PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)))
            || v.contains(['{', '}'])
            || is_constant_name(v)
            || is_password_hash(v)
            || self.placeholders.is_placeholder(v.as_bytes())
    }

    /// The confidence of `value` as a credential in a field of `sensitivity`,
    /// or `None` when it should not be reported.
    pub fn judge(&self, value: &str, sensitivity: Sensitivity) -> Option<Confidence> {
        if self.is_placeholder(value) {
            return None;
        }
        let v = value.trim();
        let len = v.chars().count();
        let entropy = shannon_entropy(v.as_bytes());
        let letters_only = v.chars().all(|c| c.is_ascii_alphabetic());
        let digits_only = v.chars().all(|c| c.is_ascii_digit());
        match sensitivity {
            Sensitivity::Credential => {
                if !(4..=4096).contains(&len) || (digits_only && len < 6) {
                    return None;
                }
                Some(if len >= 12 && entropy >= 3.3 {
                    Confidence::High
                } else if len >= 8 && entropy >= 2.5 {
                    Confidence::Medium
                } else {
                    Confidence::Low
                })
            }
            Sensitivity::Named | Sensitivity::Text => {
                if !(6..=1024).contains(&len)
                    || entropy < 2.5
                    || (letters_only && len < 16)
                    || is_identifier(v)
                    || (digits_only && len < 12)
                    || v.contains(char::is_whitespace)
                    || v.contains("://")
                    || looks_like_code(v)
                {
                    return None;
                }
                Some(if len >= 16 && entropy >= 3.5 {
                    Confidence::Medium
                } else {
                    Confidence::Low
                })
            }
            Sensitivity::Plain => None,
        }
    }
}

/// `JIRA_PASSWORD_VALUE`, `API_TOKEN`: the name of a constant or an
/// environment variable standing in for the value.
fn is_constant_name(v: &str) -> bool {
    v.contains('_')
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// A word or a name made of words: letters with `-`/`_`/`.`/`/` separators and
/// at most two trailing digits (`access_token_expiry`, `addressKeyString`,
/// `sellerSingleUseToken-`, `String!`, `application/json`).
fn is_identifier(v: &str) -> bool {
    let core = v.trim_end_matches(|c: char| c.is_ascii_digit() || "-_!.".contains(c));
    v.len() - core.len() <= 3
        && !core.is_empty()
        && core
            .chars()
            .all(|c| c.is_ascii_alphabetic() || "-_./".contains(c))
}

/// A password *hash* (bcrypt, crypt, argon2): sensitive, but not a
/// credential anyone can present.
fn is_password_hash(v: &str) -> bool {
    [
        "$2a$", "$2b$", "$2y$", "$argon2", "$6$", "$5$", "$1$", "$pbkdf2",
    ]
    .iter()
    .any(|p| v.starts_with(p))
}

/// An identifier path or call rather than a literal (`pm.environment.get`,
/// `data.token`, `response.json()`).
fn looks_like_code(v: &str) -> bool {
    v.ends_with("()")
        || v.ends_with(')')
        || (v.contains('.')
            && v.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
            && !v.contains(char::is_numeric))
}

/// Longest name of a pair found in text.
const MAX_NAME: usize = 64;
/// Longest value of a pair found in text.
const MAX_VALUE: usize = 1024;

/// A `name` / `value` pair found in free text: offsets into the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The name's span.
    pub name: Range<usize>,
    /// The value's span.
    pub value: Range<usize>,
}

/// Finds `name = value` pairs in free text: JSON and JS (`"token": "…"`,
/// `const apiSecret = '…'`), setter calls (`pm.environment.set("k", "…")`),
/// query strings (`?access_token=…`), header lines (`X-Api-Key: …`,
/// `Authorization: Bearer …`) and URL user-info (`https://u:PASS@host`, named
/// `password`).
#[derive(Debug, Clone)]
pub struct PairFinder {
    patterns: Vec<Regex>,
}

impl Default for PairFinder {
    fn default() -> Self {
        let sources = [
            // "name": "value", name = 'value', name: "value"
            r#"["'`]?(?P<name>[A-Za-z_$][A-Za-z0-9_$.\-]*)["'`]?[ \t]*(?::=|=>|[:=])[ \t]*["'`](?P<value>[^"'`\r\n]+)["'`]"#,
            // set("name", "value") / setEnvironmentVariable('name', 'value')
            r#"\([ \t]*["'`](?P<name>[^"'`\r\n]+)["'`][ \t]*,[ \t]*["'`](?P<value>[^"'`\r\n]+)["'`]"#,
            // Authorization: Bearer xyz (to the end of the line or quote)
            r#"(?i)(?P<name>(?:proxy-)?authorization)["']?[ \t]*[:=][ \t]*["']?(?P<value>(?:bearer|basic|token|apikey|jwt)[ \t]+[A-Za-z0-9._~+/=:@!$%*#-]+|[^"'\s]+)"#,
            // unquoted name=value / name: value (query strings, header lines, .env)
            // (no `/` or `?` in the value, so `https://…?token=…` and
            // `host:8000/path?token=…` reach the query parameter)
            r#"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*[:=][ \t]*(?P<value>[^\s"'`,;&{}()<>\[\]/?]{6,})"#,
            // https://user:password@host
            r#"://[^:/@\s"']+:(?P<value>[^@/\s"']{3,})@(?P<name>)"#,
        ];
        let patterns = sources
            .iter()
            .map(|s| Regex::new(s).expect("the built-in pair patterns are valid regexes"))
            .collect();
        PairFinder { patterns }
    }
}

impl PairFinder {
    /// Every pair in `text`, in no particular order, possibly overlapping.
    /// A user-info password has an empty name span.
    pub fn find(&self, text: &str) -> Vec<Pair> {
        let mut out = Vec::new();
        for re in &self.patterns {
            let names = re
                .group_info()
                .pattern_names(regex_automata::PatternID::ZERO);
            let (mut name_idx, mut value_idx) = (None, None);
            for (i, n) in names.enumerate() {
                match n {
                    Some("name") => name_idx = Some(i),
                    Some("value") => value_idx = Some(i),
                    _ => {}
                }
            }
            let (Some(ni), Some(vi)) = (name_idx, value_idx) else {
                continue;
            };
            for caps in re.captures_iter(text) {
                if let (Some(n), Some(v)) = (caps.get_group(ni), caps.get_group(vi)) {
                    // Unbounded in the patterns (bounded repeats of Unicode
                    // classes make the automata slow); bounded here.
                    if n.len() > MAX_NAME || v.len() > MAX_VALUE {
                        continue;
                    }
                    out.push(Pair {
                        name: n.range(),
                        value: v.range(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_mean_secret() {
        for n in [
            "password",
            "apiSecret",
            "access_token",
            "X-API-Key",
            "client_secret",
            "AWS_SECRET_ACCESS_KEY",
            "stripeKey",
            "svcPassword0",
            "bearerToken0",
            "Private-Token",
            "SERVICE_TOKEN",
        ] {
            assert!(key_looks_secret(n), "{n}");
        }
        for n in [
            "token_type",
            "tokenUrl",
            "public_key",
            "key",
            "username",
            "Content-Type",
            "accessTokenUrl",
            "id",
            "path",
            "author",
            "url",
            "grant_type",
            "patient",
            "expires_in",
        ] {
            assert!(!key_looks_secret(n), "{n}");
        }
    }

    #[test]
    fn schemes_are_stripped() {
        let v = "Bearer  abc123";
        assert_eq!(&v[strip_scheme(v)], "abc123");
        let v = " xyz ";
        assert_eq!(&v[strip_scheme(v)], "xyz");
    }

    #[test]
    fn placeholders_are_not_credentials() {
        let j = ValueJudge::default();
        for v in [
            "{{token}}",
            "<token>",
            "",
            "xxxx",
            "your-api-key",
            "password",
            "${TOKEN}",
            "********",
            "Bearer",
        ] {
            assert_eq!(j.judge(v, Sensitivity::Credential), None, "{v}");
        }
        assert_eq!(
            j.judge("Efespv-5119-B9reosfh*", Sensitivity::Credential),
            Some(Confidence::High)
        );
        assert!(j.judge("s3cr3t!", Sensitivity::Credential).is_some());
        assert_eq!(j.judge("application/json", Sensitivity::Named), None);
        assert_eq!(j.judge("pm.environment.get", Sensitivity::Named), None);
    }

    #[test]
    fn pairs_in_text() {
        let f = PairFinder::default();
        let text = r#"pm.environment.set("refresh_token", "abc-123-def"); const apiSecret = 'q1w2e3r4t5'; https://deploy:Pa55word@host/x?access_token=zzz999yyy Authorization: Bearer tok123456"#;
        let pairs: Vec<(String, String)> = f
            .find(text)
            .into_iter()
            .map(|p| (text[p.name].to_string(), text[p.value].to_string()))
            .collect();
        for (n, v) in [
            ("refresh_token", "abc-123-def"),
            ("apiSecret", "q1w2e3r4t5"),
            ("", "Pa55word"),
            ("access_token", "zzz999yyy"),
            ("Authorization", "Bearer tok123456"),
        ] {
            assert!(
                pairs.contains(&(n.to_string(), v.to_string())),
                "{n}={v} not in {pairs:?}"
            );
        }
    }
}

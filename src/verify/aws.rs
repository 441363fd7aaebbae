//! AWS access keys: an access key id and its secret are live when STS
//! `GetCallerIdentity` accepts a request signed with them. The call needs no
//! permission, cannot be denied by policy, changes nothing and costs
//! nothing; its answer names the account and the principal (the ARN), which
//! tells a responder how bad the leak is.
//!
//! The request is signed with AWS's own SigV4 signer (`aws-sigv4`), checked
//! in the tests against AWS's published test vectors.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{sign, SignableBody, SignableRequest, SigningSettings},
    sign::v4,
};
use aws_smithy_runtime_api::client::identity::Identity;

use super::http::Target;
use crate::finding::{Finding, Verification, VerificationStatus};

/// The global STS endpoint (signed for `us-east-1`).
pub const STS_URL: &str = "https://sts.amazonaws.com/";
const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// The headers SigV4 adds to a request (`authorization`, `x-amz-date`, ...),
/// signed for `region` and `service` at `time`.
///
/// # Errors
/// When the request or the credentials cannot be signed (a malformed URL).
pub fn sign_headers(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    (access_key_id, secret_access_key): (&str, &str),
    (region, service): (&str, &str),
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity =
        Credentials::new(access_key_id, secret_access_key, None, None, "leakhound").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("cannot sign: {e}"))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| format!("cannot sign: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Calls STS `GetCallerIdentity` at `target` with the finding's secret access
/// key and its paired access key id (part `access_key_id`).
pub fn check(client: &reqwest::blocking::Client, target: &Target, f: &Finding) -> Verification {
    let Some(key_id) = f.parts.get("access_key_id") else {
        return Verification {
            status: VerificationStatus::NotChecked,
            detail: Some("no access key id found near the secret key".into()),
        };
    };
    let url = target.url.as_str();
    let host = target.host_key();
    let base = [("host", host.as_str()), ("content-type", FORM)];
    let signed = match sign_headers(
        "POST",
        url,
        &base,
        STS_BODY.as_bytes(),
        (key_id, &f.secret),
        ("us-east-1", "sts"),
        SystemTime::now(),
    ) {
        Ok(h) => h,
        Err(e) => return error(e),
    };
    let mut req = client.post(url).header("content-type", FORM).body(STS_BODY);
    for (k, v) in signed {
        req = req.header(k, v);
    }
    let resp = match req.send() {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return error("timed out".into()),
        Err(e) => return error(format!("request failed: {}", e.without_url())),
    };
    let status = resp.status().as_u16();
    let body = super::http::read_bounded(resp).unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    match status {
        200 => {
            let arn = xml_text(&text, "Arn");
            let account = xml_text(&text, "Account");
            Verification {
                status: VerificationStatus::Valid,
                detail: Some(match (account, arn) {
                    (Some(a), Some(arn)) => format!("account={a}, arn={arn}"),
                    _ => "HTTP 200".into(),
                }),
            }
        }
        // InvalidClientTokenId: no such key; SignatureDoesNotMatch: the key
        // id exists but this is not its secret.
        403 if text.contains("InvalidClientTokenId") || text.contains("SignatureDoesNotMatch") => {
            Verification {
                status: VerificationStatus::Invalid,
                detail: Some(format!(
                    "HTTP 403 {}",
                    xml_text(&text, "Code").unwrap_or_default()
                )),
            }
        }
        _ => Verification {
            status: VerificationStatus::Unknown,
            detail: Some(format!(
                "HTTP {status} {}",
                xml_text(&text, "Code").unwrap_or_default()
            )),
        },
    }
}

/// The text of the first `<tag>…</tag>` in an XML answer (STS answers are
/// flat and never escape the fields we read).
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..start + len].trim().to_string())
}

fn error(detail: String) -> Verification {
    Verification {
        status: VerificationStatus::Error,
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const KEY: (&str, &str) = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    /// AWS's published SigV4 test suite, `get-vanilla` and
    /// `get-vanilla-query-order-key-case`, 2015-08-30T12:36:00Z.
    #[test]
    fn signs_aws_published_test_vectors() {
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        for (url, signature) in [
            (
                "https://example.amazonaws.com/",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                "https://example.amazonaws.com/?Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
        ] {
            let headers = sign_headers(
                "GET",
                url,
                &[("host", "example.amazonaws.com")],
                b"",
                KEY,
                ("us-east-1", "service"),
                time,
            )
            .expect("signs");
            let auth = headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.as_str())
                .expect("authorization header");
            assert_eq!(
                auth,
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                     SignedHeaders=host;x-amz-date, Signature={signature}"
                )
            );
        }
    }

    #[test]
    fn reads_sts_answers() {
        let ok = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";
        assert_eq!(xml_text(ok, "Account").as_deref(), Some("123456789012"));
        assert_eq!(xml_text(ok, "Missing"), None);
    }
}

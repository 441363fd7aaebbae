//! HTTP pieces shared by the rooms that talk to services (the Postman API
//! source, verification): one client policy and one reading of
//! `Retry-After`.

use std::time::Duration;

/// A blocking client under leakhound's policy: redirects are never followed
/// (a redirect would carry a key or secret to another host), TLS is
/// verified (rustls' default), every request times out.
///
/// # Errors
/// When the client cannot be built.
pub fn client(timeout: Duration) -> Result<reqwest::blocking::Client, reqwest::Error> {
    builder(timeout).build()
}

/// The builder behind [`client`], for callers that add to the policy (the
/// verifier pins a checked address) but never loosen it.
pub fn builder(timeout: Duration) -> reqwest::blocking::ClientBuilder {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(concat!("leakhound/", env!("CARGO_PKG_VERSION")))
}

/// `Retry-After` as a number of seconds (the form the APIs we call send;
/// an HTTP date is ignored and the caller's backoff applies).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

//! Database URIs (`--verify-db` only): a real connection attempt with a
//! short timeout that stops after authentication — no query is sent. The
//! host comes from the scanned data, so it passes the network guard first
//! and the connection goes to the address that was checked.
//!
//! PostgreSQL uses the `postgres` driver (which speaks MD5 and SCRAM); Redis
//! needs one `AUTH` command, written here in its wire form.

use std::{
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use crate::finding::{Finding, Verification, VerificationStatus};

use super::{guard, VerifyOptions};

/// Which database protocol a detector's URIs speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `postgres://`
    Postgres,
    /// `redis://` (plain TCP; `rediss://` is not checked)
    Redis,
}

/// Checks a database URI finding: needs the parts `host` (and optionally
/// `port`, `user`, `database`) that the detector's pattern captures.
pub fn check(protocol: Protocol, f: &Finding, opts: &VerifyOptions) -> Verification {
    let Some(host) = f.parts.get("host") else {
        return outcome(VerificationStatus::NotChecked, "no host in the URI");
    };
    let default_port = match protocol {
        Protocol::Postgres => 5432,
        Protocol::Redis => 6379,
    };
    let port = match f.parts.get("port").map(|p| p.parse::<u16>()) {
        None => default_port,
        Some(Ok(p)) => p,
        Some(Err(_)) => return outcome(VerificationStatus::Error, "the port is not a number"),
    };
    let addrs = match guard::resolve_checked(host, port, opts.allow_internal) {
        Ok(a) => a,
        Err(e) => return outcome(VerificationStatus::Error, &e),
    };
    let user = f.parts.get("user").map(String::as_str).unwrap_or("");
    let password = percent_decode(&f.secret);
    match protocol {
        Protocol::Postgres => postgres(&addrs, host, user, &password, f, opts.timeout),
        Protocol::Redis => redis(&addrs, user, &password, opts.timeout),
    }
}

fn postgres(
    addrs: &[SocketAddr],
    host: &str,
    user: &str,
    password: &str,
    f: &Finding,
    timeout: Duration,
) -> Verification {
    let user = if user.is_empty() { "postgres" } else { user };
    let database = f.parts.get("database").map(String::as_str).unwrap_or(user);
    let mut config = postgres::Config::new();
    config
        .host(host.trim_start_matches('[').trim_end_matches(']'))
        .hostaddr(addrs[0].ip())
        .port(addrs[0].port())
        .user(user)
        .password(password)
        .dbname(database)
        .application_name("leakhound-verify")
        .connect_timeout(timeout);
    match config.connect(postgres::NoTls) {
        Ok(client) => {
            drop(client);
            outcome(
                VerificationStatus::Valid,
                &format!("user={user}, database={database}"),
            )
        }
        Err(e) => match e.code().map(postgres::error::SqlState::code) {
            // invalid_password, invalid_authorization_specification
            Some("28P01" | "28000") => outcome(
                VerificationStatus::Invalid,
                &format!("authentication failed for user {user}"),
            ),
            Some(code) => outcome(
                VerificationStatus::Unknown,
                &format!("server refused the connection (SQLSTATE {code})"),
            ),
            None => outcome(
                VerificationStatus::Error,
                &format!("cannot connect: {}", first_line(&e.to_string())),
            ),
        },
    }
}

fn redis(addrs: &[SocketAddr], user: &str, password: &str, timeout: Duration) -> Verification {
    let mut stream = match TcpStream::connect_timeout(&addrs[0], timeout) {
        Ok(s) => s,
        Err(e) => return outcome(VerificationStatus::Error, &format!("cannot connect: {e}")),
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let mut args = vec!["AUTH"];
    if !user.is_empty() {
        args.push(user);
    }
    args.push(password);
    let mut command = format!("*{}\r\n", args.len());
    for a in &args {
        command.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    if let Err(e) = stream.write_all(command.as_bytes()) {
        return outcome(VerificationStatus::Error, &format!("cannot send: {e}"));
    }
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    if let Err(e) = reader.read_line(&mut line) {
        return outcome(VerificationStatus::Error, &format!("no answer: {e}"));
    }
    let _ = stream.write_all(b"*1\r\n$4\r\nQUIT\r\n");
    let line = line.trim_end();
    if line == "+OK" {
        outcome(
            VerificationStatus::Valid,
            &format!("user={}", if user.is_empty() { "default" } else { user }),
        )
    } else if line.starts_with("-WRONGPASS") || line.starts_with("-ERR invalid password") {
        outcome(VerificationStatus::Invalid, "AUTH refused")
    } else {
        // The error text of a Redis server is its own, never our secret.
        outcome(
            VerificationStatus::Unknown,
            &format!("AUTH answered {}", first_line(line)),
        )
    }
}

/// `%40` → `@`: URIs percent-encode special characters of the password.
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(120).collect()
}

fn outcome(status: VerificationStatus, detail: &str) -> Verification {
    Verification {
        status,
        detail: Some(detail.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%2Fw"), "p@ss/w");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("a%zz"), "a%zz");
    }
}

//! The network guard: a verifier whose host comes from the scanned data (a
//! webhook URL, a database URI, a shop or tenant subdomain) must not be
//! turned against the scanning machine's own network. The host is resolved
//! first, every address it resolves to is checked, and the request is then
//! pinned to the checked addresses, so a second DNS answer cannot swap in
//! an internal one (DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// Whether `ip` is on the machine itself or its private networks: loopback,
/// private (RFC 1918, unique-local), link-local (which holds the cloud
/// metadata services at 169.254.169.254 and fd00:ec2::254), carrier-grade
/// NAT, unspecified, broadcast and multicast addresses.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || v6 == Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0xa9fe, 0xa9fe)
            // NAT64 of 169.254.169.254
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
}

/// Resolves `host:port` and returns its addresses, refusing the lot when
/// any of them is internal (unless `allow_internal`).
///
/// # Errors
/// A sentence for the verification detail: the name does not resolve, or
/// resolves to an internal address. It names the host (which comes from the
/// scanned data, but is not the secret) and never the address list in full.
pub fn resolve_checked(
    host: &str,
    port: u16,
    allow_internal: bool,
) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !allow_internal {
        if let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
            return Err(format!(
                "refused: {host} resolves to the internal address {} (a host taken from scanned data may not reach private, loopback, link-local or metadata addresses; --verify-allow-internal permits it)",
                bad.ip()
            ));
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["1.1.1.1", "140.82.112.3", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_internal(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn names_are_checked_after_resolution() {
        // `localhost` is a name, not an address: only resolving it shows
        // where it points.
        let err = resolve_checked("localhost", 80, false).expect_err("refused");
        assert!(
            err.starts_with("refused: localhost resolves to the internal address"),
            "{err}"
        );
        assert!(resolve_checked("localhost", 80, true).is_ok());
    }
}

//! Outbound safety: the relay only connects to public addresses unless the config
//! explicitly allows others.
//!
//! Webhook URLs come from the config, never from the browser, but a config is easily
//! pointed (or a DNS name re-pointed) at `169.254.169.254` or an internal service. So
//! every address the relay is about to connect to is checked: literal IPs in the URL
//! when the config is loaded and before each request, and resolved names inside the
//! HTTP client's resolver, so the address checked is the address connected to (a name
//! that resolves to a public address for the check and a private one for the
//! connection, DNS rebinding, cannot slip through).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Addresses that may be connected to although they are not public: the config's
/// `dangerously_allow_targets`, e.g. `["127.0.0.1/32", "10.0.0.0/8", "::1"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist(Vec<(IpAddr, u8)>);

impl Allowlist {
    /// Parses `IP` or `IP/prefix` entries; the error names the bad entry.
    pub fn parse(entries: &[String]) -> Result<Allowlist, String> {
        let mut out = Vec::new();
        for entry in entries {
            let (ip, len) = entry
                .split_once('/')
                .map_or((entry.as_str(), None), |(ip, l)| (ip, Some(l)));
            let ip: IpAddr = ip
                .trim()
                .parse()
                .map_err(|_| format!("{entry:?} is not an IP address or IP/prefix"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                None => max,
                Some(l) => l
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| format!("{entry:?}: the prefix length must be 0 to {max}"))?,
            };
            out.push((ip, len));
        }
        Ok(Allowlist(out))
    }

    /// Whether `ip` is in one of the allowed ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, len)| match (canonical(*net), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *len),
            _ => false,
        })
    }

    /// Whether the relay may connect to `ip`: a public address, or an allowed one.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.contains(ip)
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let (bytes, bits) = ((len / 8) as usize, len % 8);
    a[..bytes] == b[..bytes] && (bits == 0 || (a[bytes] ^ b[bytes]) >> (8 - bits) == 0)
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is a public, globally routed unicast address. Loopback, private,
/// shared (CGNAT), link-local (cloud metadata), documentation, benchmarking,
/// multicast, reserved and unspecified addresses are not; nor are IPv6 addresses that
/// embed one of those (IPv4-mapped, NAT64).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64: judge the IPv4 address inside.
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0)) // IPv4-compatible and other ::/80
}

/// The error for a refused address, naming the key that would allow it.
pub fn refusal(ip: IpAddr) -> String {
    format!(
        "refusing to connect to {ip}: not a public address (to allow it, add it to dangerously_allow_targets in the relay's config)"
    )
}

/// The HTTP client's resolver: resolves with the system, then keeps only the
/// addresses the relay may connect to.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow: Arc<Allowlist>,
}

impl GuardedResolver {
    /// A resolver that admits public addresses and `allow`.
    pub fn new(allow: Allowlist) -> Self {
        GuardedResolver {
            allow: Arc::new(allow),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| allow.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let shown = addrs
                    .first()
                    .map_or_else(|| format!("{host}: no address"), |a| refusal(a.ip()));
                return Err(shown.into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        let cases = [
            ("93.184.216.34", true),
            ("8.8.8.8", true),
            ("2606:4700::1111", true),
            ("127.0.0.1", false),
            ("127.8.9.10", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("172.31.255.255", false),
            ("172.32.0.1", true),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("198.18.0.1", false),
            ("192.0.2.1", false),
            ("240.0.0.1", false),
            ("::1", false),
            ("::", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("ff02::1", false),
            ("2001:db8::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:169.254.169.254", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b::808:808", true),
            ("::127.0.0.1", false),
        ];
        for (ip, want) in cases {
            assert_eq!(is_public(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn the_allowlist_takes_addresses_and_ranges() {
        let allow = Allowlist::parse(&[
            "127.0.0.1".into(),
            "10.0.0.0/8".into(),
            "::1".into(),
            "fd00::/8".into(),
        ])
        .unwrap();
        for (ip, want) in [
            ("127.0.0.1", true),
            ("::ffff:127.0.0.1", true),
            ("127.0.0.2", false),
            ("10.200.1.1", true),
            ("11.0.0.1", true), // public anyway
            ("::1", true),
            ("fd12::1", true),
            ("fe80::1", false),
            ("169.254.169.254", false),
        ] {
            assert_eq!(allow.permits(ip.parse().unwrap()), want, "{ip}");
        }
        assert!(
            Allowlist::parse(&["localhost".into()])
                .unwrap_err()
                .contains("\"localhost\" is not an IP")
        );
        assert!(
            Allowlist::parse(&["10.0.0.0/33".into()])
                .unwrap_err()
                .contains("0 to 32")
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_to_private_addresses() {
        let strict = GuardedResolver::new(Allowlist::default());
        let name: Name = "localhost".parse().unwrap();
        let err = strict
            .resolve(name)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("refusing to connect to") && err.contains("dangerously_allow_targets"),
            "{err}"
        );
        let open =
            GuardedResolver::new(Allowlist::parse(&["127.0.0.0/8".into(), "::1".into()]).unwrap());
        let addrs: Vec<SocketAddr> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
    }
}

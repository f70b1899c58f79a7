//! Which addresses a server-side fetch may reach (SSRF protection for client metadata documents),
//! and which address a request came from when it passed through trusted reverse proxies.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address block such as `10.0.0.0/8`, `2001:db8::/32` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = text.split_once('/').map_or((text, None), |(a, p)| (a, Some(p)));
        let network: IpAddr = addr.parse().map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{text:?}: the prefix must be 0–{max}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 (what a dual-stack socket reports for an IPv4 peer) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: the connection's peer, unless that peer is a trusted proxy; then the
/// `X-Forwarded-For` chain is read from the right (each proxy appends the address it saw), past
/// every trusted proxy, to the first address no trusted proxy vouches for. Anything a client
/// wrote itself sits to the left of that and is never believed. A malformed entry ends the walk
/// at the last trusted hop.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    let hops = forwarded_for.iter().rev().flat_map(|h| h.split(',').rev()).map(str::trim);
    for hop in hops {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    return client;
                }
            }
            Err(_) => return client,
        }
    }
    client
}

/// The `for=` addresses of an RFC 7239 `Forwarded` header, in order, as plain addresses (quotes,
/// IPv6 brackets and ports taken off), for [`client_address`]. An element without `for=` or with
/// an obfuscated one (`_hidden`, `unknown`) gives its raw text, which ends the walk there.
pub fn forwarded_header_addresses(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|element| {
            let value = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
            });
            let Some(value) = value else { return element.trim().to_owned() };
            let bare = match value.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(v6),
                // `a.b.c.d:port`; a bare IPv6 address (not allowed unquoted) has more than one colon.
                None if value.matches(':').count() == 1 => value.split(':').next().unwrap_or(value),
                None => value,
            };
            bare.to_owned()
        })
        .collect()
}

/// True only for globally routable unicast addresses: never loopback, private (RFC 1918),
/// shared (100.64/10), link-local (incl. 169.254.169.254 metadata services), unique-local,
/// multicast, documentation, benchmarking or reserved ranges. IPv4 inside IPv6 (mapped
/// `::ffff:a.b.c.d` or compatible `::a.b.c.d`) is judged as that IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
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
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// An allow-list, not a block-list: only global unicast (2000::/3) is public, less the special
/// ranges inside it. Everything else — unique-local, link-local, the old site-local fec0::/10,
/// NAT64 64:ff9b::/96 (whose embedded IPv4 could be anything) — is refused.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0; 6] {
        // IPv4-compatible (and :: and ::1, which judge as 0.0.0.0 and 0.0.0.1: refused).
        return is_public_v4(Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7])));
    }
    (s[0] & 0xe000) == 0x2000
        && !(s[0] == 0x2001 && s[1] < 0x0200) // 2001::/23 IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID 2001:10::/28 and 2001:20::/28, …
        && !(s[0] == 0x2001 && s[1] == 0x0db8) // 2001:db8::/32 documentation
        && s[0] != 0x2002 // 2002::/16 6to4, embeds IPv4
        && !(s[0] == 0x3fff && s[1] < 0x1000) // 3fff::/20 documentation
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn cidr_blocks_parse_and_contain() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.2")) && !net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped peers are judged as IPv4");
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")) && !v6.contains(ip("10.0.0.1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted = cidrs(&["127.0.0.1", "10.0.0.0/8"]);
        // No trusted proxy: the header is whatever the client wrote, and is ignored.
        assert_eq!(client_address(ip("203.0.113.9"), &["198.51.100.1"], &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("203.0.113.9"), &["198.51.100.1"], &[]), ip("203.0.113.9"));
        // One proxy: the address it appended.
        assert_eq!(client_address(ip("127.0.0.1"), &["198.51.100.1"], &trusted), ip("198.51.100.1"));
        // A client's own spoofed entry sits to the left and is skipped.
        assert_eq!(client_address(ip("127.0.0.1"), &["1.2.3.4, 198.51.100.1"], &trusted), ip("198.51.100.1"));
        // Two proxies (one header each, or one list): past both trusted hops.
        assert_eq!(client_address(ip("127.0.0.1"), &["1.2.3.4", "198.51.100.1, 10.0.0.7"], &trusted), ip("198.51.100.1"));
        // Garbage stops the walk at the last trusted hop; an all-trusted chain gives its leftmost.
        assert_eq!(client_address(ip("127.0.0.1"), &["198.51.100.1, junk"], &trusted), ip("127.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), &["10.0.0.8"], &trusted), ip("10.0.0.8"));
        assert_eq!(client_address(ip("127.0.0.1"), &[], &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn forwarded_headers_give_their_for_addresses() {
        let hops =
            forwarded_header_addresses(r#"for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https, For="198.51.100.2:80";by=10.0.0.1"#);
        assert_eq!(hops, ["192.0.2.43", "2001:db8:cafe::17", "198.51.100.2"]);
        let trusted = cidrs(&["127.0.0.1"]);
        let hops = forwarded_header_addresses("for=1.2.3.4, for=198.51.100.1");
        let hops: Vec<&str> = hops.iter().map(String::as_str).collect();
        assert_eq!(client_address(ip("127.0.0.1"), &hops, &trusted), ip("198.51.100.1"));
        // An obfuscated identifier is not an address: the walk stops at the proxy.
        let hops = forwarded_header_addresses("for=_hidden");
        assert_eq!(client_address(ip("127.0.0.1"), &[hops[0].as_str()], &trusted), ip("127.0.0.1"));
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_global_unicast_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.88.99.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2002:7f00:1::",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "::127.0.0.1",
            "::10.0.0.1",
            // Outside 2000::/3, or special inside it: a block-list let these through.
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "2001:db8::1",
            "2001:10::1",
            "2001:20::1",
            "2001:1ff:ffff::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "4000::1",
            "100::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip(private)), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "2001:200::1",
            "3fff:1000::1",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
    }

    /// IPv6 addresses under `prefix` (its first `bits` bits), the rest random.
    fn under(prefix: &str, bits: u32) -> impl Strategy<Value = IpAddr> {
        let base = u128::from(prefix.parse::<Ipv6Addr>().unwrap());
        let host = u128::MAX >> bits;
        any::<u128>().prop_map(move |r| IpAddr::V6(Ipv6Addr::from((base & !host) | (r & host))))
    }

    proptest! {
        /// IPv4 hidden in IPv6, mapped (::ffff:a.b.c.d) or compatible (::a.b.c.d), is judged as that IPv4.
        #[test]
        fn ipv4_in_ipv6_is_judged_as_ipv4(v4 in any::<u32>()) {
            let v4 = Ipv4Addr::from(v4);
            prop_assert_eq!(is_public(IpAddr::V6(v4.to_ipv6_mapped())), is_public(IpAddr::V4(v4)));
            prop_assert_eq!(is_public(IpAddr::V6(v4.to_ipv6_compatible())), is_public(IpAddr::V4(v4)));
        }

        /// Outside 2000::/3 nothing is public but IPv4 in IPv6.
        #[test]
        fn outside_global_unicast_nothing_is_public(a in any::<u128>()) {
            let v6 = Ipv6Addr::from(a);
            prop_assume!(v6.segments()[0] & 0xe000 != 0x2000);
            prop_assume!(v6.to_ipv4_mapped().is_none() && v6.segments()[..6] != [0; 6]);
            prop_assert!(!is_public(IpAddr::V6(v6)));
        }

        /// The special ranges inside 2000::/3 are refused whatever the rest of the address.
        #[test]
        fn special_ranges_inside_global_unicast_are_refused(
            addr in prop_oneof![
                under("2001::", 23),     // IETF protocol assignments: Teredo, benchmarking, ORCHID, …
                under("2001:db8::", 32), // documentation
                under("2002::", 16),     // 6to4
                under("3fff::", 20),     // documentation
            ]
        ) {
            prop_assert!(!is_public(addr), "{}", addr);
        }

        /// The rest of 2000::/3 is public.
        #[test]
        fn ordinary_global_unicast_is_public(addr in prop_oneof![under("2400::", 6), under("2600::", 7), under("2a00::", 8)]) {
            prop_assert!(is_public(addr), "{}", addr);
        }
    }
}

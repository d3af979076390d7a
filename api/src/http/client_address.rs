//! Which address a request comes from, for the login limiter.
//!
//! The peer of the TCP connection, unless that peer is one of the configured proxies
//! (`--trusted-proxies`): then the address that proxy saw, from `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`. Those headers are anyone's to write, so from any other peer they are
//! ignored: a client cannot pick a fresh address for each guess. Behind a chain of proxies
//! the client is the right-most address that is not itself a trusted proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;

/// The proxies (load balancers) whose forwarding headers are believed. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    pub fn new(addresses: Vec<IpAddr>) -> Self {
        Self(addresses)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }

    /// The client address of a request.
    pub fn client_of(&self, request: &HttpRequest) -> IpAddr {
        let peer = request.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |address| address.ip());
        self.client_behind(peer, request.headers())
    }

    fn client_behind(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        // Hops as the proxies appended them, nearest last; `Forwarded` is the standard and
        // wins when both are present.
        let hops = forwarded_hops(headers);
        let hops = if hops.is_empty() { x_forwarded_for_hops(headers) } else { hops };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Some(address) = hop else {
                // An unreadable or obfuscated hop ends the chain we can follow.
                return client;
            };
            client = address;
            if !self.trusts(address) {
                return client;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of IP addresses (`10.0.0.5,10.0.0.6`); empty for none.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| item.parse::<IpAddr>().map_err(|_| format!("{item}: not an IP address")))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers.get_all(name).filter_map(|value| value.to_str().ok())
}

/// The `for=` address of each element of `Forwarded` (`for=192.0.2.60;proto=http,
/// for="[2001:db8::1]:4711"`), `None` for one that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_values(headers, "forwarded")
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| parse_node(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_values(headers, "x-forwarded-for")
        .flat_map(|value| value.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.60`, `192.0.2.60:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_node(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|address| address.ip()))
        .or_else(|| text.strip_prefix('[')?.strip_suffix(']')?.parse::<IpAddr>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        let proxies = TrustedProxies::default();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=203.0.113.10")]);
        assert_eq!(proxies.client_behind(ip("198.51.100.7"), &forged), ip("198.51.100.7"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_last_untrusted_hop() {
        let proxies: TrustedProxies = "10.0.0.5, 10.0.0.6".parse().unwrap_or_default();
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.6")]);
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), &chain), ip("198.51.100.7"));
        let standard = headers(&[("forwarded", "for=198.51.100.8;proto=https, for=\"[2001:db8::1]:4711\"")]);
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), &standard), ip("2001:db8::1"));
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), &headers(&[])), ip("10.0.0.5"));
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk() {
        let proxies: TrustedProxies = "10.0.0.5".parse().unwrap_or_default();
        let chain = headers(&[("forwarded", "for=198.51.100.8, for=_hidden")]);
        assert_eq!(proxies.client_behind(ip("10.0.0.5"), &chain), ip("10.0.0.5"));
    }

    #[test]
    fn the_setting_is_a_comma_separated_list_of_addresses() {
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
        assert!("10.0.0.0/8".parse::<TrustedProxies>().is_err());
    }
}

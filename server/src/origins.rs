//! Which names this server answers to, and which origins may send it writes.
//!
//! A browser page from anywhere can reach this server under a name the attacker controls (DNS
//! rebinding: `evil.test` resolving to 127.0.0.1). Trusting the request's own `Host` would then
//! make that page "same-origin". So the set is fixed at start-up: the configured public origin
//! only, or, without one, the listening address's own origins (loopback names included).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Cloned with the middleware that checks them, on every request: shared, never copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origins {
    /// Accepted `Host` header values (`host` or `host:port`), lower-case.
    hosts: Arc<[String]>,
    /// Accepted `Origin` header values (`scheme://host[:port]`), lower-case.
    origins: Arc<[String]>,
}

impl Origins {
    /// The configured public origin (`scheme://host[:port]`) only.
    pub fn public(origin: &str) -> Origins {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let authority = origin
            .split_once("://")
            .map(|(_, a)| a.to_owned())
            .unwrap_or_default();
        let default_port = if origin.starts_with("https://") {
            ":443"
        } else {
            ":80"
        };
        let mut hosts = vec![authority.clone()];
        // `Host: example.com:443` and `Host: example.com` name the same thing.
        match authority.strip_suffix(default_port) {
            Some(bare) => hosts.push(bare.to_owned()),
            None if !has_port(&authority) => hosts.push(format!("{authority}{default_port}")),
            None => {}
        }
        Origins {
            hosts: hosts.into(),
            origins: [origin].into(),
        }
    }

    /// The origins of the address the server listens on (plain HTTP: without a public URL
    /// there is no TLS in front of it). An unspecified address (`0.0.0.0`, `::`) means every
    /// interface, of which only the loopback names are known for certain.
    pub fn listening(addr: SocketAddr) -> Origins {
        let port = addr.port();
        let ip = addr.ip();
        let mut names = Vec::new();
        if ip.is_unspecified() || ip.is_loopback() {
            names.extend([
                "localhost".to_owned(),
                IpAddr::V4(Ipv4Addr::LOCALHOST).to_string(),
                format!("[{}]", Ipv6Addr::LOCALHOST),
            ]);
        }
        if !ip.is_unspecified() && !ip.is_loopback() {
            names.push(match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            });
        }
        let mut hosts: Vec<String> = names.iter().map(|n| format!("{n}:{port}")).collect();
        if port == 80 {
            hosts.extend(names.iter().cloned());
        }
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Origins {
            hosts: hosts.into(),
            origins,
        }
    }

    /// Whether a request naming this `Host` is addressed to this app.
    pub fn allows_host(&self, host: Option<&str>) -> bool {
        host.is_some_and(|h| self.hosts.iter().any(|a| a.eq_ignore_ascii_case(h)))
    }

    /// Whether a request with this `Origin`, sent to this `Host`, comes from the app itself:
    /// one of our origins, and the very one the request is addressed to (`localhost` and
    /// `127.0.0.1` are different sites to a browser, so a page on one never writes to the other).
    pub fn allows_origin(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let (Some(origin), Some(host)) = (origin, host) else {
            return false;
        };
        let ours = self.origins.iter().any(|a| a.eq_ignore_ascii_case(origin));
        let addressed = origin
            .split_once("://")
            .is_some_and(|(_, authority)| self.same_authority(authority, host));
        ours && self.allows_host(Some(host)) && addressed
    }

    /// `example.com` and `example.com:443` are one authority behind HTTPS (likewise `:80`).
    fn same_authority(&self, a: &str, b: &str) -> bool {
        let strip = |x: &str| {
            let x = x.to_ascii_lowercase();
            for port in [":443", ":80"] {
                if let Some(bare) = x.strip_suffix(port) {
                    return bare.to_owned();
                }
            }
            x
        };
        strip(a) == strip(b)
    }
}

fn has_port(authority: &str) -> bool {
    // `[::1]` has colons but no port; `[::1]:80` and `host:80` have one.
    match authority.rsplit_once(':') {
        Some((_, port)) => !port.contains(']') && port.chars().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_is_the_only_one() {
        let o = Origins::public("https://Fleet.Example.com");
        assert!(o.allows_host(Some("fleet.example.com")));
        assert!(o.allows_host(Some("fleet.example.com:443")));
        assert!(!o.allows_host(Some("127.0.0.1:3000")));
        assert!(!o.allows_host(Some("evil.test")));
        assert!(!o.allows_host(None));
        let host = Some("fleet.example.com");
        assert!(o.allows_origin(Some("https://fleet.example.com"), host));
        assert!(o.allows_origin(
            Some("https://fleet.example.com"),
            Some("fleet.example.com:443")
        ));
        assert!(!o.allows_origin(Some("http://fleet.example.com"), host));
        assert!(!o.allows_origin(Some("https://fleet.example.com.evil.test"), host));
        assert!(!o.allows_origin(Some("null"), host));
        assert!(!o.allows_origin(None, host));
        assert!(!o.allows_origin(Some("https://fleet.example.com"), Some("evil.test")));
        let with_port = Origins::public("http://10.0.0.5:8080");
        assert!(with_port.allows_host(Some("10.0.0.5:8080")));
        assert!(!with_port.allows_host(Some("10.0.0.5")));
    }

    #[test]
    fn a_loopback_listener_answers_to_its_loopback_names_only() {
        let o = Origins::listening("127.0.0.1:3000".parse().unwrap());
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST:3000",
            "[::1]:3000",
        ] {
            assert!(o.allows_host(Some(host)), "{host}");
        }
        for host in [
            "evil.test:3000",
            "127.0.0.1:3001",
            "127.0.0.1",
            "attacker.localhost:3000",
        ] {
            assert!(!o.allows_host(Some(host)), "{host}");
        }
        let local = Some("localhost:3000");
        assert!(o.allows_origin(Some("http://localhost:3000"), local));
        assert!(!o.allows_origin(Some("https://localhost:3000"), local));
        assert!(!o.allows_origin(Some("http://evil.test:3000"), local));
        // Another site of this machine (a page on localhost writing to 127.0.0.1) is cross-site.
        assert!(!o.allows_origin(Some("http://localhost:3000"), Some("127.0.0.1:3000")));
        assert!(o.allows_origin(Some("http://127.0.0.1:3000"), Some("127.0.0.1:3000")));
    }

    #[test]
    fn a_specific_address_answers_to_itself() {
        let o = Origins::listening("10.1.2.3:80".parse().unwrap());
        assert!(o.allows_host(Some("10.1.2.3")));
        assert!(o.allows_host(Some("10.1.2.3:80")));
        assert!(!o.allows_host(Some("localhost:80")));
        let any = Origins::listening("0.0.0.0:3000".parse().unwrap());
        assert!(any.allows_host(Some("localhost:3000")));
        assert!(!any.allows_host(Some("evil.test:3000")));
    }
}

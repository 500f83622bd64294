//! Which targets a webhook may call.
//!
//! A target must not let a client of the API reach into the network the service runs in
//! (SSRF): only `http` and `https`, no credentials in the URL, and no loopback, private,
//! link-local or otherwise non-public address unless the operator allows private targets. An
//! address written in the URL is checked here; a host name can only be checked once resolved,
//! so the delivery checks every address it connects to with [`is_public`] as well.

use std::net::IpAddr;

use url::{Host, Url};

/// Why a URL is not a webhook target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Not an absolute URL.
    #[error("not an absolute URL")]
    Malformed,
    /// Longer than [`WebhookUrl::MAX_LEN`].
    #[error("longer than 2,000 characters")]
    TooLong,
    /// Another scheme than `http` or `https`.
    #[error("only http and https URLs can be called")]
    Scheme,
    /// A user name or password in the URL.
    #[error("credentials in the URL are not accepted; put them in the path or a query")]
    Credentials,
    /// A loopback, private, link-local or otherwise non-public address, or `localhost`.
    #[error("a private or loopback address (allowed only with --webhooks-allow-private)")]
    Private,
}

/// Where a subscription's events are POSTed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// The longest URL accepted.
    pub const MAX_LEN: usize = 2_000;

    /// `text` as a target; private and loopback addresses only when `allow_private`.
    ///
    /// # Errors
    /// [`WebhookUrlError`], naming the first rule broken.
    pub fn parse(text: &str, allow_private: bool) -> Result<Self, WebhookUrlError> {
        if text.len() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        let url = Url::parse(text).map_err(|_| WebhookUrlError::Malformed)?;
        // Serialized, a URL may grow (percent-encoding, punycode): what is stored must fit too.
        if url.as_str().len() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookUrlError::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Credentials);
        }
        let public = match url.host() {
            None => return Err(WebhookUrlError::Malformed),
            Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.');
                name != "localhost" && !name.ends_with(".localhost")
            }
        };
        if !public && !allow_private {
            return Err(WebhookUrlError::Private);
        }
        Ok(Self(url))
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private (RFC 1918, IPv6
/// unique local), link-local, unspecified, broadcast, multicast, shared (100.64/10),
/// documentation, benchmarking or reserved; an IPv4-mapped IPv6 address is judged as its IPv4.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || first == 0x2001 && v6.segments()[1] == 0x0db8)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_http_targets_without_credentials_are_accepted() {
        let ok = |url: &str| WebhookUrl::parse(url, false).map(|u| u.as_str().to_owned());
        assert_eq!(
            ok("https://hooks.example.com/checkout"),
            Ok("https://hooks.example.com/checkout".into())
        );
        assert!(ok("http://93.184.215.14:8080/in").is_ok());
        assert_eq!(ok("ftp://example.com/"), Err(WebhookUrlError::Scheme));
        assert_eq!(ok("file:///etc/passwd"), Err(WebhookUrlError::Scheme));
        assert_eq!(ok("https://user:pw@example.com/"), Err(WebhookUrlError::Credentials));
        assert_eq!(ok("/relative"), Err(WebhookUrlError::Malformed));
        assert_eq!(
            ok(&format!("https://example.com/{}", "a".repeat(2_000))),
            Err(WebhookUrlError::TooLong)
        );
        // 1,000 characters that take 6 bytes each once percent-encoded.
        assert_eq!(
            ok(&format!("https://example.com/{}", "é".repeat(1_000))),
            Err(WebhookUrlError::TooLong)
        );
        for private in [
            "http://127.0.0.1:9000/",
            "http://localhost/",
            "http://api.localhost./",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
        ] {
            assert_eq!(ok(private), Err(WebhookUrlError::Private), "{private}");
            assert!(WebhookUrl::parse(private, true).is_ok(), "{private} when allowed");
        }
    }

    #[test]
    fn public_addresses_are_public() {
        for public in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for other in ["224.0.0.1", "255.255.255.255", "198.18.0.1", "240.0.0.1", "2001:db8::1"] {
            assert!(!is_public(other.parse().unwrap()), "{other}");
        }
    }
}

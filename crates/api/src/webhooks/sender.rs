//! [`HttpWebhookSender`]: one delivery as one signed `POST`, per the Standard Webhooks
//! specification, with the guards an outbound client of user-supplied URLs needs.
//!
//! - Signed by the specification's own library (`standardwebhooks`): `webhook-id` (the event
//!   id, the same on every retry), `webhook-timestamp` (Unix seconds of this attempt) and
//!   `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
//! - A timeout on the whole exchange; no redirect followed (a 3xx is a failed attempt: a
//!   redirect could point anywhere, including inside our network); at most `concurrency`
//!   deliveries in flight in this process, whatever the number of subscriptions.
//! - Only public addresses, unless private targets are allowed: a host name is resolved here
//!   and every address it resolves to must be public (so a name that points at 127.0.0.1 or at
//!   a cloud metadata address is refused, and the connection goes to the addresses checked);
//!   an address written in the URL is checked before connecting.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::ports::WebhookSender;
use domain::webhook::{AttemptOutcome, Delivery, Subscription, is_public};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use tokio::sync::Semaphore;

use crate::problem::error_chain;

/// The media type of a CloudEvent in structured mode (CloudEvents HTTP binding).
const CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";

/// How the deliveries' client behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderSettings {
    /// Whether loopback and private targets may be called (tests, a receiver on the same host).
    pub allow_private: bool,
    /// The longest one delivery may take, connection included.
    pub timeout: Duration,
    /// The most deliveries in flight at once in this process.
    pub concurrency: usize,
}

/// [`WebhookSender`] over reqwest.
pub struct HttpWebhookSender {
    client: reqwest::Client,
    permits: Semaphore,
    settings: SenderSettings,
}

impl HttpWebhookSender {
    /// The client `settings` ask for.
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new(settings: SenderSettings) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("checkout-api/", env!("CARGO_PKG_VERSION"), " (webhooks)"));
        if !settings.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            permits: Semaphore::new(settings.concurrency),
            settings,
        })
    }

    async fn post(&self, subscription: &Subscription, delivery: &Delivery) -> AttemptOutcome {
        let url = subscription.url.as_str();
        if !self.settings.allow_private && literal_private(url) {
            return unreachable("the target is a private or loopback address");
        }
        let id = &delivery.event.event_id;
        let body = delivery.event.payload.as_bytes();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = match standardwebhooks::Webhook::new(subscription.secret.expose())
            .and_then(|signer| signer.sign(id, timestamp, body))
        {
            Ok(signature) => signature,
            Err(err) => return unreachable(&format!("cannot sign: {err}")),
        };
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(standardwebhooks::HEADER_WEBHOOK_ID, id)
            .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(delivery.event.payload.clone());
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                AttemptOutcome::Delivered { status: response.status().as_u16() }
            }
            Ok(response) => AttemptOutcome::Refused { status: response.status().as_u16() },
            Err(err) if err.is_timeout() => {
                unreachable(&format!("no answer within {} s", self.settings.timeout.as_secs_f32()))
            }
            // `error sending request: … connection refused`, for the delivery log.
            Err(err) => unreachable(&error_chain(&err)),
        }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, subscription: &Subscription, delivery: &Delivery) -> AttemptOutcome {
        // Closed only when the process stops; then the attempt simply did not happen.
        let Ok(_permit) = self.permits.acquire().await else {
            return unreachable("the service is stopping");
        };
        self.post(subscription, delivery).await
    }
}

fn unreachable(error: &str) -> AttemptOutcome {
    AttemptOutcome::Unreachable { error: error.to_owned() }
}

/// Whether `url`'s host is an address (not a name) that is not public.
fn literal_private(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else { return true };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => false,
        None => true,
    }
}

/// The system resolver, keeping public addresses only; a name with none is refused.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                found.into_iter().filter(|addr| is_public(addr.ip())).collect();
            if public.is_empty() {
                let refused = format!("{host} resolves to no public address");
                return Err(refused.into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's test vector: our signer is its library, fed the
    /// way the sender feeds it.
    #[test]
    fn signatures_match_the_specifications_test_vector() {
        let signer = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("the vector's secret");
        let signature = signer
            .sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#)
            .expect("a UTF-8 body");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn addresses_in_urls_are_judged_before_connecting() {
        assert!(literal_private("http://127.0.0.1:9/x"));
        assert!(literal_private("http://[::1]/"));
        assert!(literal_private("http://169.254.169.254/latest"));
        assert!(!literal_private("https://93.184.215.14/"));
        assert!(!literal_private("https://hooks.example.com/"), "names are judged when resolved");
    }

    #[tokio::test]
    async fn names_that_resolve_only_to_private_addresses_are_refused() {
        let refused = PublicOnly.resolve("localhost".parse().unwrap()).await;
        assert!(refused.is_err());
    }
}

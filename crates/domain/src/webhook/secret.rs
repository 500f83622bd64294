//! A subscription's signing secret, in the Standard Webhooks form `whsec_<base64 key>`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a text is not a signing secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookSecretError {
    /// Not `whsec_` followed by base64 of 24 to 64 bytes.
    #[error("a secret is whsec_ followed by the base64 of 24 to 64 bytes")]
    Malformed,
}

/// The key both sides of a subscription hold: the service signs every delivery with it, the
/// receiver checks the signature. Shown once, when the subscription is made; never logged
/// (its `Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    const PREFIX: &'static str = "whsec_";

    /// The secret of `key` (random bytes from the operating system's generator).
    #[must_use]
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self(format!("{}{}", Self::PREFIX, STANDARD.encode(key)))
    }

    /// A stored secret, checked.
    ///
    /// # Errors
    /// [`WebhookSecretError::Malformed`].
    pub fn parse(text: &str) -> Result<Self, WebhookSecretError> {
        let key = text.strip_prefix(Self::PREFIX).ok_or(WebhookSecretError::Malformed)?;
        let bytes = STANDARD.decode(key).map_err(|_| WebhookSecretError::Malformed)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(WebhookSecretError::Malformed);
        }
        Ok(Self(text.to_owned()))
    }

    /// The secret as shown to the subscriber and stored: `whsec_…`.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_whsec_and_the_base64_of_its_key() {
        let secret = WebhookSecret::from_key(&[7; 32]);
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(secret.expose()), Ok(secret.clone()));
        assert_eq!(format!("{secret:?}"), "WebhookSecret(whsec_…)");
        // The Standard Webhooks test vector's secret.
        assert!(WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!", "whsec_AAAA", ""] {
            assert_eq!(WebhookSecret::parse(bad), Err(WebhookSecretError::Malformed), "{bad}");
        }
    }
}

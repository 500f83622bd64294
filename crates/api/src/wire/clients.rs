//! `/v1/clients`: API clients on the wire. A key appears in exactly one answer, the creation's.

use application::access::IssuedClient;
use chrono::{DateTime, Utc};
use domain::access::{ApiClient, ClientName, Scope, Scopes, UnknownScopes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Type};
use uuid::Uuid;

use super::Validator;
use crate::problem::ApiError;

/// `POST /v1/clients`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    /// What people call it: 1 to 100 characters, not blank, no control character (the rules
    /// of a product name).
    #[schema(
        example = "payments",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// What it may do; may be empty (a client that only identifies itself, for its own
    /// idempotency keys and rate limit). An unknown name is 422, listed in `unknown_scopes`.
    #[schema(schema_with = scopes_schema)]
    pub scopes: Vec<String>,
}

impl CreateClientRequest {
    /// The name and scopes asked for; 422 naming every unknown scope.
    ///
    /// # Errors
    /// [`ApiError::UnknownScopes`] when only scopes are wrong, [`ApiError::InvalidRequest`]
    /// with every invalid field otherwise.
    pub fn parse(&self) -> Result<(ClientName, Scopes), ApiError> {
        let mut v = Validator::default();
        let name = v.check("name", ClientName::new(&self.name));
        let scopes = Scopes::parse_all(self.scopes.iter().map(String::as_str));
        // Only the scopes wrong: say which, in a member of their own as well.
        if let (Some(_), Err(UnknownScopes(names))) = (&name, &scopes) {
            return Err(ApiError::UnknownScopes(names.clone()));
        }
        let scopes = v.check("scopes", scopes);
        Ok(v.finish(name.zip(scopes))?)
    }
}

/// An array of scope names, each one of [`Scope::ALL`].
fn scopes_schema() -> Array {
    let names = Scope::ALL.iter().map(|s| s.as_str());
    let name = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names));
    ArrayBuilder::new()
        .items(name)
        .examples([serde_json::json!(["orders:pay", "orders:cancel"])])
        .build()
}

/// An API client, without its key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientView {
    pub id: Uuid,
    pub name: String,
    #[schema(example = json!(["orders:pay"]))]
    pub scopes: Vec<String>,
    /// The key's first characters, to tell keys apart.
    #[schema(example = "ck_3f9a0c1d")]
    pub key_hint: String,
    pub created_at: DateTime<Utc>,
    /// Set once revoked: its key is refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiClient> for ClientView {
    fn from(c: &ApiClient) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name.as_str().to_owned(),
            scopes: c.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            key_hint: c.key_hint.clone(),
            created_at: c.created_at,
            revoked_at: c.revoked_at,
        }
    }
}

/// A client just made, with its key: shown this once, stored only as a digest.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedClientView {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    /// The secret key: send it as `Authorization: Bearer <key>`. Never shown again.
    #[schema(example = "ck_3f9a0c1d…")]
    pub key: String,
    pub key_hint: String,
    pub created_at: DateTime<Utc>,
}

impl From<&IssuedClient> for IssuedClientView {
    fn from(issued: &IssuedClient) -> Self {
        let view = ClientView::from(&issued.client);
        Self {
            id: view.id,
            name: view.name,
            scopes: view.scopes,
            key: issued.key.clone(),
            key_hint: view.key_hint,
            created_at: view.created_at,
        }
    }
}

/// Every API client, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientsPage {
    pub items: Vec<ClientView>,
}

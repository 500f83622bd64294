//! Stock locations: add a warehouse or a store. Its stock arrives by delivery (an adjustment
//! naming it), by a count, or by a transfer from another location.

use domain::ports::{BoxError, StoreError};
use domain::{Location, LocationCode, LocationError};

use crate::Ports;

/// Add a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateLocationCommand {
    /// Its short, unique handle.
    pub code: LocationCode,
    /// Its display name.
    pub name: String,
    /// Lower is served first by checkouts that name no locations.
    pub priority: i64,
}

/// Why the location was not added.
#[derive(Debug, thiserror::Error)]
pub enum CreateLocationError {
    /// A blank name or a priority out of range.
    #[error(transparent)]
    Invalid(#[from] LocationError),
    /// Another location has the code.
    #[error("a location with code {0} already exists")]
    DuplicateCode(LocationCode),
    /// The store failed.
    #[error("the location could not be stored")]
    Unavailable(#[source] BoxError),
}

/// The create-location use case.
pub struct CreateLocation {
    ports: Ports,
}

impl CreateLocation {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Stores the new, active location.
    ///
    /// # Errors
    /// See [`CreateLocationError`].
    #[tracing::instrument(skip_all, fields(code = %command.code))]
    pub async fn execute(
        &self,
        command: CreateLocationCommand,
    ) -> Result<Location, CreateLocationError> {
        let location = Location::new(
            self.ports.ids.location_id(),
            command.code,
            &command.name,
            command.priority,
        )?;
        match self.ports.locations.create(location.clone()).await {
            Ok(()) => Ok(location),
            Err(StoreError::DuplicateLocationCode(code)) => {
                Err(CreateLocationError::DuplicateCode(code))
            }
            Err(err) => Err(CreateLocationError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::LocationId;

    use super::*;
    use crate::test_support::Mocks;

    fn command(code: &str, name: &str) -> CreateLocationCommand {
        CreateLocationCommand {
            code: LocationCode::new(code).expect("a code"),
            name: name.into(),
            priority: 3,
        }
    }

    fn lid() -> LocationId {
        LocationId::new(uuid::Uuid::from_u128(77)).expect("id")
    }

    #[tokio::test]
    async fn a_location_is_stored_active_with_a_fresh_id() {
        let mut mocks = Mocks::new();
        mocks.ids.expect_location_id().return_const(lid());
        mocks.locations.expect_create().withf(|l| l.id() == lid()).times(1).returning(|_| Ok(()));

        let created = CreateLocation::new(mocks.into_ports())
            .execute(command("wh-1", " Gudang "))
            .await
            .expect("created");

        assert_eq!((created.name(), created.priority(), created.is_active()), ("Gudang", 3, true));
    }

    #[tokio::test]
    async fn a_taken_code_and_a_blank_name_are_refused() {
        let mut mocks = Mocks::new();
        mocks.ids.expect_location_id().return_const(lid());
        mocks
            .locations
            .expect_create()
            .times(1)
            .returning(|l| Err(StoreError::DuplicateLocationCode(l.code().clone())));
        let use_case = CreateLocation::new(mocks.into_ports());

        let taken = use_case.execute(command("wh-1", "Gudang")).await.expect_err("taken");
        let blank = use_case.execute(command("wh-2", "  ")).await.expect_err("blank");

        assert!(
            matches!(taken, CreateLocationError::DuplicateCode(code) if code.as_str() == "wh-1")
        );
        assert!(matches!(blank, CreateLocationError::Invalid(LocationError::Name)));
    }
}

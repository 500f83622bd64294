//! [`SeaOrmLocationRepository`]: the stock locations.

use async_trait::async_trait;
use domain::Location;
use domain::ports::{Clock, LocationRepository, StoreError};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use crate::entities::locations;
use crate::error::{is_duplicate_location_code, store_error};
use crate::system::SystemClock;

/// [`LocationRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmLocationRepository {
    db: DatabaseConnection,
}

impl SeaOrmLocationRepository {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl LocationRepository for SeaOrmLocationRepository {
    #[tracing::instrument(skip_all, fields(code = %location.code()))]
    async fn create(&self, location: Location) -> Result<(), StoreError> {
        // The unique index on the code is the arbiter: checking first would race another
        // creation.
        locations::Entity::insert(locations::active_model(&location, SystemClock.now()))
            .exec_without_returning(&self.db)
            .await
            .map_err(|err| {
                if is_duplicate_location_code(&err) {
                    StoreError::DuplicateLocationCode(location.code().clone())
                } else {
                    store_error(err)
                }
            })?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self) -> Result<Vec<Location>, StoreError> {
        locations::Entity::find()
            .order_by_asc(locations::Column::Priority)
            .order_by_asc(locations::Column::Id)
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(locations::Model::into_domain)
            .collect()
    }
}

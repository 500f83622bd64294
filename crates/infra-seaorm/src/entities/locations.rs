//! `locations`: the warehouses and stores stock is kept in, and their translation to and from
//! [`domain::Location`].

use domain::ports::StoreError;
use domain::{Location, LocationCode, LocationId, Timestamp};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "locations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique (`ux_locations_code`).
    pub code: String,
    pub name: String,
    /// Lower is served first.
    pub priority: i32,
    /// An inactive location keeps its history but serves no checkout.
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<Location, StoreError> {
        let id = self.id;
        let code = LocationCode::new(&self.code).map_err(|e| corrupt("locations", id, e))?;
        Location::restore(
            LocationId::new(id).map_err(|e| corrupt("locations", id, e))?,
            code,
            &self.name,
            i64::from(self.priority),
            self.active,
        )
        .map_err(|e| corrupt("locations", id, e))
    }
}

pub(crate) fn active_model(location: &Location, created_at: Timestamp) -> ActiveModel {
    ActiveModel {
        id: Set(location.id().as_uuid()),
        code: Set(location.code().as_str().to_owned()),
        name: Set(location.name().to_owned()),
        priority: Set(location.priority()),
        active: Set(location.is_active()),
        created_at: Set(created_at),
    }
}

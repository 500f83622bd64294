//! `products`: the catalogue row, and its translation to and from [`domain::Product`].

use domain::ports::StoreError;
use domain::{Currency, Money, Product, ProductId, ProductName, Sku};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    /// Minor units of `currency`.
    pub price_amount: i64,
    pub currency: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<Product, StoreError> {
        let id = self.id;
        let price = Currency::new(&self.currency)
            .and_then(|currency| Money::new(self.price_amount, currency))
            .map_err(|e| corrupt("products", id, e))?;
        Ok(Product {
            id: ProductId::new(id).map_err(|e| corrupt("products", id, e))?,
            sku: Sku::new(self.sku).map_err(|e| corrupt("products", id, e))?,
            name: ProductName::new(&self.name).map_err(|e| corrupt("products", id, e))?,
            price,
            created_at: self.created_at,
        })
    }
}

pub(crate) fn active_model(product: &Product) -> ActiveModel {
    ActiveModel {
        id: Set(product.id.as_uuid()),
        sku: Set(product.sku.as_str().to_owned()),
        name: Set(product.name.as_str().to_owned()),
        price_amount: Set(product.price.amount()),
        currency: Set(product.price.currency().code().to_owned()),
        created_at: Set(product.created_at),
    }
}

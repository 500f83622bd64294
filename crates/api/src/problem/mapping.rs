//! Application and request-parsing errors → [`ApiError`], one `From` per error type, written as
//! matches so that a new variant fails to compile here instead of silently becoming a 500.

use application::access::AccessError;
use application::adjust_stock::AdjustStockError;
use application::availability::CheckAvailabilityError;
use application::bulk_stock::BulkStockError;
use application::cancel::CancelError;
use application::checkout::CheckoutError;
use application::create_product::CreateProductError;
use application::events::EventsError;
use application::extend::ExtendError;
use application::idempotency::IdempotencyError;
use application::incoming::RecordIncomingError;
use application::locations::CreateLocationError;
use application::pay::PayError;
use application::queries::QueryError;
use application::reconcile::ReconcileError;
use application::set_limits::SetLimitsError;
use application::set_stock::SetStockError;
use application::transfer::TransferError;
use application::webhooks::WebhookError;
use domain::LocationError;

use super::ApiError;
use crate::wire::{FieldError, Invalid};

impl From<Invalid> for ApiError {
    fn from(Invalid(errors): Invalid) -> Self {
        Self::InvalidRequest(errors)
    }
}

impl From<AccessError> for ApiError {
    fn from(err: AccessError) -> Self {
        match err {
            AccessError::NotFound(id) => Self::ClientNotFound(id.to_string()),
            AccessError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<EventsError> for ApiError {
    fn from(err: EventsError) -> Self {
        match err {
            EventsError::CursorExpired { earliest } => Self::CursorExpired(earliest.get()),
            EventsError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::NotFound(id) => Self::WebhookNotFound(id.to_string()),
            WebhookError::NotFailed(id) => Self::DeliveryNotFailed(id.get()),
            WebhookError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(err: CheckoutError) -> Self {
        match err {
            CheckoutError::InvalidCart(cart) => {
                Self::InvalidRequest(vec![FieldError::new("items", cart)])
            }
            CheckoutError::UnknownProducts(ids) => Self::UnknownProducts(ids),
            CheckoutError::UnknownLocations(ids) => {
                let ids: Vec<_> = ids.iter().map(ToString::to_string).collect();
                let message = format!("unknown location(s): {}", ids.join(", "));
                Self::InvalidRequest(vec![FieldError::new("location_ids", message)])
            }
            CheckoutError::Unpriceable(why) => {
                Self::InvalidRequest(vec![FieldError::new("items", why)])
            }
            CheckoutError::InsufficientStock(shortages) => Self::InsufficientStock(shortages),
            CheckoutError::LimitExceeded(limits) => Self::PurchaseLimitExceeded(limits),
            // A caller who may assert only forgot to name the customer.
            CheckoutError::CustomerNotAsserted { product_id, may_assert: true, .. } => {
                Self::InvalidRequest(vec![FieldError::new(
                    "customer_id",
                    format!("product {product_id} has a per-customer limit: name the customer"),
                )])
            }
            CheckoutError::CustomerNotAsserted { product_id, may_assert: false, anonymous } => {
                Self::CustomerNotAsserted { product_id, anonymous }
            }
            CheckoutError::Contended { attempts } => Self::Contention { attempts },
            CheckoutError::IdempotencyClaimLost => Self::IdempotencyKeyInUse,
            CheckoutError::TimedOut => Self::Timeout,
            CheckoutError::Overloaded => Self::Overloaded,
            CheckoutError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<BulkStockError> for ApiError {
    fn from(err: BulkStockError) -> Self {
        match err {
            BulkStockError::RowCount(_) => {
                Self::InvalidRequest(vec![FieldError::new("rows", err.to_string())])
            }
            BulkStockError::Contended { attempts } => Self::Contention { attempts },
            BulkStockError::IdempotencyClaimLost => Self::IdempotencyKeyInUse,
            BulkStockError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<SetLimitsError> for ApiError {
    fn from(err: SetLimitsError) -> Self {
        match err {
            SetLimitsError::NotFound(id) => Self::ProductNotFound(id),
            SetLimitsError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<CheckAvailabilityError> for ApiError {
    fn from(err: CheckAvailabilityError) -> Self {
        match err {
            CheckAvailabilityError::InvalidCart(cart) => {
                Self::InvalidRequest(vec![FieldError::new("items", cart)])
            }
            CheckAvailabilityError::UnknownProducts(ids) => Self::UnknownProducts(ids),
            CheckAvailabilityError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<PayError> for ApiError {
    fn from(err: PayError) -> Self {
        match err {
            PayError::NotFound(id) => Self::OrderNotFound(id.to_string()),
            PayError::NotPayable { status } => Self::NotPayable(status),
            PayError::Contended { attempts } => Self::Contention { attempts },
            PayError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<CancelError> for ApiError {
    fn from(err: CancelError) -> Self {
        match err {
            CancelError::NotFound(id) => Self::OrderNotFound(id.to_string()),
            CancelError::NotCancellable { status } => Self::NotCancellable(status),
            CancelError::Contended { attempts } => Self::Contention { attempts },
            CancelError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<ExtendError> for ApiError {
    fn from(err: ExtendError) -> Self {
        match err {
            ExtendError::NotFound(id) => Self::OrderNotFound(id.to_string()),
            ExtendError::NotExtendable { status, .. } => Self::NotExtendable(status),
            ExtendError::Contended { attempts } => Self::Contention { attempts },
            ExtendError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<SetStockError> for ApiError {
    fn from(err: SetStockError) -> Self {
        match err {
            SetStockError::NotFound(id) => Self::ProductNotFound(id),
            SetStockError::LocationNotFound(id) => Self::LocationNotFound(id),
            SetStockError::LocationRequired(id) => Self::LocationRequired(id),
            SetStockError::StockNotFound(product, location) => {
                Self::StockNotFound(product, location)
            }
            SetStockError::VersionMismatch { current } => Self::VersionMismatch(current),
            SetStockError::BelowReserved { on_hand, reserved } => {
                Self::BelowReserved { on_hand, reserved }
            }
            SetStockError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<AdjustStockError> for ApiError {
    fn from(err: AdjustStockError) -> Self {
        match err {
            AdjustStockError::NotFound(id) => Self::ProductNotFound(id),
            AdjustStockError::LocationNotFound(id) => Self::LocationNotFound(id),
            AdjustStockError::InsufficientStock { on_hand, reserved } => {
                Self::AdjustmentBelowReserved { on_hand, reserved }
            }
            AdjustStockError::InvalidDelta(why) => {
                Self::InvalidRequest(vec![FieldError::new("delta", why)])
            }
            AdjustStockError::Contended { attempts } => Self::Contention { attempts },
            AdjustStockError::IdempotencyClaimLost => Self::IdempotencyKeyInUse,
            AdjustStockError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<CreateLocationError> for ApiError {
    fn from(err: CreateLocationError) -> Self {
        match err {
            CreateLocationError::Invalid(why @ LocationError::Name) => {
                Self::InvalidRequest(vec![FieldError::new("name", why)])
            }
            CreateLocationError::Invalid(why @ LocationError::Priority) => {
                Self::InvalidRequest(vec![FieldError::new("priority", why)])
            }
            CreateLocationError::DuplicateCode(code) => {
                Self::DuplicateLocationCode(code.to_string())
            }
            CreateLocationError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<RecordIncomingError> for ApiError {
    fn from(err: RecordIncomingError) -> Self {
        match err {
            RecordIncomingError::ProductNotFound(id) => Self::ProductNotFound(id),
            RecordIncomingError::LocationNotFound(id) => Self::LocationNotFound(id),
            RecordIncomingError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<TransferError> for ApiError {
    fn from(err: TransferError) -> Self {
        match err {
            TransferError::SameLocation => Self::InvalidRequest(vec![FieldError::new(
                "to_location_id",
                "a transfer goes to another location than from_location_id",
            )]),
            TransferError::NotFound(id) => Self::ProductNotFound(id),
            TransferError::LocationNotFound(id) => Self::LocationNotFound(id),
            TransferError::InsufficientStock(shortage) => Self::InsufficientStock(vec![shortage]),
            TransferError::OutOfRange(why) => {
                Self::InvalidRequest(vec![FieldError::new("quantity", why)])
            }
            TransferError::Contended { attempts } => Self::Contention { attempts },
            TransferError::IdempotencyClaimLost => Self::IdempotencyKeyInUse,
            TransferError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<CreateProductError> for ApiError {
    fn from(err: CreateProductError) -> Self {
        match err {
            CreateProductError::DuplicateSku(sku) => Self::DuplicateSku(sku.to_string()),
            CreateProductError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::ProductNotFound(id) => Self::ProductNotFound(id),
            QueryError::StockNotFound(product, location) => Self::StockNotFound(product, location),
            QueryError::OrderNotFound(id) => Self::OrderNotFound(id.to_string()),
            QueryError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<ReconcileError> for ApiError {
    fn from(err: ReconcileError) -> Self {
        match err {
            ReconcileError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

impl From<IdempotencyError> for ApiError {
    fn from(err: IdempotencyError) -> Self {
        match err {
            IdempotencyError::InUse => Self::IdempotencyKeyInUse,
            IdempotencyError::Reused => Self::IdempotencyKeyReused,
            IdempotencyError::Unavailable(cause) => Self::Unavailable(cause.into()),
        }
    }
}

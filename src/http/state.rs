use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::RequestLimits;
use crate::registry::Registry;

/// Fixed settings of the HTTP front end.
#[derive(Debug)]
pub struct Settings {
    /// Reads need the read scope.
    pub private: bool,
    /// Renders are strict (missing keys are errors) unless a request says otherwise.
    pub strict_by_default: bool,
    pub limits: RequestLimits,
    /// Origins allowed to read the catalog API from browser pages (`--cors-origins`).
    pub cors_origins: Vec<String>,
}

/// Everything a handler can reach. One `Arc`: cloned by every extractor and middleware, so a
/// clone is a single reference count.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub registry: Registry,
    pub settings: Settings,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Bounds how many requests are in flight.
    pub request_permits: Arc<Semaphore>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(registry: Registry, settings: Settings, max_requests: usize) -> AppState {
        AppState(Arc::new(Shared {
            registry,
            settings,
            metrics: Arc::new(super::metrics::Metrics::default()),
            request_permits: Arc::new(Semaphore::new(max_requests.max(1))),
        }))
    }
}

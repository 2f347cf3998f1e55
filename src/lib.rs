//! packyard: a Palette-style pack registry.
//!
//! Dependencies point one way: [`http`] → [`store`] → [`domain`].

/// Commands on a registry's storage: tokens, verify, gc.
pub mod admin;
/// Opening a registry from its configuration (database, migrations, blob store).
pub mod app;
/// Checking presented credentials.
pub mod auth;
/// The command line.
pub mod cli;
/// Commands that talk to a running server over HTTP (push, render).
pub mod client;
/// Settings from flags and environment variables.
pub mod config;
/// Pure validated value types: digests, pack names, media types.
pub mod domain;
/// The HTTP API: router, state, errors, one module per resource.
pub mod http;
/// The Palette pack format: reading and validating pack folders and archives.
pub mod pack;
/// The registry's operations: publishing, lifecycle, tag resolution.
pub mod registry;
/// Rendering: template checks, values resolution, the template engine.
pub mod render;
/// Listening, TCP_NODELAY and graceful shutdown.
pub mod server;
/// Persistence: the database and the content-addressed blob store.
pub mod store;
/// Log set-up.
pub mod telemetry;

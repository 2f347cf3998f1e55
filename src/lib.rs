//! packyard: a Palette-style pack registry.
//!
//! A guided tour, top floor first. Dependencies only point down (`tests/architecture.rs` checks
//! the map):
//!
//! - The front ends: [`http`] (the API, the browser catalog, blobs by digest) and [`client`]/[`cli`]
//!   (the command line). They parse a request, call [`registry`], and shape its answer; they never
//!   reach [`store`], [`render`] or [`pack`] themselves.
//! - [`registry`]: the one door. Tag resolution, listing and search, publish, lifecycle, blobs,
//!   rendering of packs and profiles, access checks, and every cache with its invalidation. Its
//!   functions return [`registry::RegistryError`], which [`http`] maps to statuses in one place.
//! - The floors below it: [`render`] (values, macros, the Go-template engine and its budgets),
//!   [`pack`] (reading and checking Palette's pack format), [`store`] (the database and the
//!   content-addressed blob store), [`auth`] (tokens).
//! - [`domain`]: validated value types (names, versions, digests, states); it names nothing else.
//!
//! Around them: [`config`] (flags), [`app`] (opens storage and builds the registry and the HTTP
//! state), [`server`] (listening, connections capped and closed when idle, shutdown) with
//! [`tls`], [`admin`] (tokens, verify, gc), [`telemetry`] (logs).

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
/// The HTTP API: router, layers, errors mapped in one place, one thin module per resource.
pub mod http;
/// The Palette pack format: reading and validating pack folders and archives.
pub mod pack;
/// The one door to the registry: every operation the front ends call.
pub mod registry;
/// Rendering: template checks, values resolution, the template engine.
pub mod render;
/// Listening, TCP_NODELAY and graceful shutdown.
pub mod server;
/// Persistence: the database and the content-addressed blob store.
pub mod store;
/// Log set-up.
pub mod telemetry;
/// TLS for `serve`: rustls, ALPN, certificates reloaded when their files change.
pub mod tls;

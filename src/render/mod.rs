//! Rendering: template checks and (with the rendering issue) values resolution and the engine.
//! Pure and CPU-bound: no async, no database.

pub mod functions;
pub mod precheck;

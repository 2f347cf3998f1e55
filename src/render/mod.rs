//! Rendering: values resolution (presets, caller values, macros), schema validation, and the
//! template engine (Go text/template via gotmpl plus our Sprig functions) with Helm's conventions.
//! Pure and CPU-bound: no async, no database.

pub mod data;
pub mod engine;
pub mod functions;
pub mod golang;
pub mod precheck;
pub mod yaml_out;

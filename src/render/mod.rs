//! Rendering: values resolution (presets, caller values, macros), schema validation, and the
//! template engine (Go text/template via gotmpl plus our Sprig functions) with Helm's conventions.
//! Pure and CPU-bound: no async, no database.

pub mod cache;
pub mod data;
pub mod engine;
pub mod functions;
pub mod golang;
pub mod macros;
pub mod output;
pub mod pipeline;
pub mod precheck;
pub mod profile;
pub mod validate;
pub mod values;
pub mod yaml_out;

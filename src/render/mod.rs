//! Rendering: values resolution (presets, caller values, macros), schema validation, and Go's
//! text/template (packyard's own engine, [`gotemplate`]) with Sprig's functions and Helm's
//! conventions, under budgets enforced inside execution. Pure and CPU-bound: no async, no
//! database.

pub mod cache;
pub mod chart;
pub mod data;
pub mod engine;
pub mod functions;
pub mod go_json;
pub mod go_json_errors;
pub mod golang;
pub mod goregex;
pub mod gotemplate;
pub mod gotime;
pub mod lint;
pub mod macros;
pub mod output;
pub mod pipeline;
pub mod precheck;
pub mod profile;
pub mod semver;
pub mod sprig;
pub mod validate;
pub mod values;
pub mod yaml_out;

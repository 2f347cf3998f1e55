//! Go's text/template, written for packyard: the same lexer, grammar, execution rules, printing
//! and error messages as Go (what Helm and Palette run), with values that behave like Go's (maps
//! are shared references, numbers keep their Go types) and budgets enforced inside execution.
//!
//! Differences from Go, each deliberate: template calls and blocks nest at most 1,000 deep, and
//! parentheses and blocks at most 1,000 deep when parsing (Go: 100,000 calls, 10,000 parentheses,
//! on stacks that grow to 1 GB); values nest at most 1,000 deep when printed or encoded; complex
//! constants are not supported; strings are UTF-8.

pub mod ast;
pub mod budget;
pub mod builtins;
pub mod exec;
pub mod funcs;
pub mod gofmt;
pub mod lex;
pub mod parse;
pub mod value;

pub use budget::{Budget, Limit, Limits, Text};
pub use exec::{Exec, ExecError, MissingKey, Options, TemplateSet};
pub use funcs::{FuncError, FuncMap, FuncResult};
pub use parse::ParseError;
pub use value::{Numbers, Str, Ty, Value};

//! Manifest templates and values macros on packyard's Go template engine, with Helm's conventions:
//! `missingkey=zero` with every `<no value>` removed from the output, Go's error for a field of a
//! missing value (`.Values.missing.deeper`), and a strict mode where any missing key is an error.

use super::functions;
use super::gotemplate::{
    Budget, ExecError, Limit, Limits, MissingKey, Numbers, Options, TemplateSet, Value,
};

/// The name a template gets when the caller gives none.
const DEFAULT_NAME: &str = "manifest";

/// Why a template did not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateFailure {
    /// `fail` or `required` in the pack: its own message.
    #[error("{0}")]
    Fail(String),
    /// Anything else the template got wrong (parse errors, type errors, missing keys in strict
    /// mode), in Go's words.
    #[error("{0}")]
    Error(String),
    /// A render budget was exceeded.
    #[error(transparent)]
    Limit(#[from] Limit),
}

impl From<ExecError> for TemplateFailure {
    fn from(error: ExecError) -> TemplateFailure {
        match error {
            ExecError::Template(error) => TemplateFailure::Error(error.message().to_owned()),
            ExecError::Fail { message, .. } => TemplateFailure::Fail(message),
            ExecError::Limit(limit) => TemplateFailure::Limit(limit),
        }
    }
}

/// A parsed template, ready to execute any number of times (shared between threads).
#[derive(Debug)]
pub struct CompiledTemplate {
    set: TemplateSet,
    name: String,
    strict: bool,
    /// Fields of missing values are empty rather than errors (values macros).
    pub(super) lenient: bool,
    source_len: usize,
}

/// Parses `source` for rendering with Helm's conventions; `strict` makes every missing key an error.
pub fn compile(source: &str, strict: bool) -> Result<CompiledTemplate, TemplateFailure> {
    compile_named(DEFAULT_NAME, source, strict)
}

/// Like [`compile`], naming the template (the manifest's path) for error messages.
pub fn compile_named(
    name: &str,
    source: &str,
    strict: bool,
) -> Result<CompiledTemplate, TemplateFailure> {
    let mut set = TemplateSet::new(functions::manifest_funcs());
    set.parse(name, source)
        .map_err(|e| TemplateFailure::Error(e.to_string()))?;
    Ok(CompiledTemplate {
        set,
        name: name.to_owned(),
        strict,
        lenient: false,
        source_len: source.len(),
    })
}

impl CompiledTemplate {
    /// Executes with `data` as dot under the default budget.
    pub fn execute(&self, data: &Value) -> Result<String, TemplateFailure> {
        self.execute_with(data, &Budget::new(Limits::default()))
    }

    /// Executes with `data` as dot, charging `budget`.
    pub fn execute_with(&self, data: &Value, budget: &Budget) -> Result<String, TemplateFailure> {
        let options = Options {
            missing_key: if self.strict {
                MissingKey::Error
            } else if self.lenient {
                MissingKey::Lenient
            } else {
                MissingKey::Zero
            },
            numbers: Numbers::Integers,
        };
        let output = self
            .set
            .execute(&self.name, data.clone(), options, budget)?;
        Ok(if self.strict {
            output
        } else {
            output.replace("<no value>", "")
        })
    }

    /// Bytes this template holds (its parse tree is about ten times its text).
    pub fn weight(&self) -> u64 {
        self.source_len as u64 * 10 + 512
    }
}

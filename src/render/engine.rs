//! Manifest templates and values macros on packyard's Go template engine, with Helm's conventions:
//! `missingkey=zero` with every `<no value>` removed from the output, Go's error for a field of a
//! missing value (`.Values.missing.deeper`), and a strict mode where any missing key is an error.

use std::sync::{Arc, LazyLock};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

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
            ExecError::Template(message) => TemplateFailure::Error(message),
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
    lenient: bool,
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

/// Macros longer than this are parsed for each use rather than cached.
const MAX_CACHED_MACRO: usize = 64 << 10;
/// The parsed-macro cache's bound.
pub const MACRO_CACHE_BYTES: u64 = 8 << 20;

#[derive(Clone)]
struct MacroWeight;

impl Weighter<String, Arc<CompiledTemplate>> for MacroWeight {
    fn weight(&self, key: &String, value: &Arc<CompiledTemplate>) -> u64 {
        key.len() as u64 + value.weight()
    }
}

static MACROS: LazyLock<Cache<String, Arc<CompiledTemplate>, MacroWeight>> =
    LazyLock::new(|| Cache::with_weighter(1024, MACRO_CACHE_BYTES, MacroWeight));

/// Bytes the parsed-macro cache holds now (for `/metrics`).
pub fn macro_cache_bytes() -> u64 {
    MACROS.weight()
}

/// Renders a one-off template (values macros) leniently, charging `budget`: missing fields of
/// missing values are empty rather than errors, so an undefined macro resolves to "" unless it has
/// a `default`. Packs repeat the same few macros in every request, so small ones are parsed once.
pub fn render_lenient(
    source: &str,
    data: &Value,
    budget: &Budget,
) -> Result<String, TemplateFailure> {
    let template = match MACROS.get(source) {
        Some(template) => template,
        None => {
            let mut template = compile_named("macro", source, false)?;
            template.lenient = true;
            let template = Arc::new(template);
            if source.len() <= MAX_CACHED_MACRO {
                MACROS.insert(source.to_owned(), template.clone());
            }
            template
        }
    };
    template.execute_with(data, budget)
}

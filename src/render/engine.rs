//! The template engine with Helm's conventions: Go's text/template (gotmpl) with our Sprig
//! functions, `missingkey=zero` with every `<no value>` removed, and Go's error for a field of a
//! missing value (`.Values.missing.deeper`), which gotmpl would otherwise print as empty.

use std::sync::{Arc, LazyLock};

use quick_cache::sync::Cache;

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, Parser, PipeNode, SmolStr};
use gotmpl::{MissingKey, Template, TemplateError, Value};

use super::functions::{self, FAIL_MARKER};

/// Field chains are rewritten into calls of this function (an identifier no template can spell).
const FIELD_FUNCTION: &str = "packyard·field";
const TEMPLATE_NAME: &str = "manifest";
/// Bounds `{{ range }}` work so a hostile template cannot spin forever.
const MAX_RANGE_ITERATIONS: u64 = 1_000_000;

/// Why a template did not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateFailure {
    /// `fail` or `required` in the pack: its own message.
    #[error("{0}")]
    Fail(String),
    /// Anything else the template got wrong (type errors, missing keys in strict mode, ...).
    #[error("{0}")]
    Error(String),
}

/// A parsed template, ready to execute any number of times.
pub struct CompiledTemplate {
    template: Template,
    strict: bool,
}

impl std::fmt::Debug for CompiledTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledTemplate")
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

fn template_error(error: TemplateError) -> TemplateFailure {
    let text = match &error {
        TemplateError::Exec(message) => message.clone(),
        TemplateError::MissingKey { key } => format!("map has no entry for key {key:?}"),
        other => other.to_string(),
    };
    match text.find(FAIL_MARKER) {
        Some(start) => TemplateFailure::Fail(text[start + FAIL_MARKER.len()..].to_owned()),
        None => TemplateFailure::Error(text),
    }
}

/// Go's field walk: a missing map key is nil (or an error in strict mode); a field of nil is an
/// error, as in `nil pointer evaluating interface {}.deeper`.
fn walk_fields(args: &[Value], strict: bool) -> Result<Value, TemplateError> {
    let (base, names) = args
        .split_first()
        .ok_or_else(|| TemplateError::Exec("field walk without a value".to_owned()))?;
    let mut current = base.clone();
    for name in names {
        let name = name.as_str().unwrap_or_default();
        current = match &current {
            Value::Map(map) => match map.get(name) {
                Some(value) => value.clone(),
                None if strict => {
                    return Err(TemplateError::MissingKey {
                        key: name.to_owned(),
                    });
                }
                None => Value::Nil,
            },
            Value::Nil => {
                return Err(TemplateError::Exec(format!(
                    "nil pointer evaluating interface {{}}.{name}"
                )));
            }
            other => {
                return Err(TemplateError::Exec(format!(
                    "can't evaluate field {name} in type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(current)
}

fn field_call(pos: gotmpl::parse::Pos, base: Expr, fields: &[SmolStr]) -> Expr {
    let mut args = vec![Expr::Identifier(pos, SmolStr::new(FIELD_FUNCTION)), base];
    args.extend(
        fields
            .iter()
            .map(|f| Expr::String(pos, Arc::from(f.as_str()))),
    );
    Expr::Pipe(
        pos,
        PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![CommandNode { pos, args }],
            is_assign: false,
        },
    )
}

fn rewrite_expr(expr: &mut Expr) {
    let replacement = match expr {
        Expr::Field(pos, fields) if fields.len() >= 2 => {
            Some(field_call(*pos, Expr::Dot(*pos), fields))
        }
        Expr::Variable(pos, name, fields) if !fields.is_empty() => Some(field_call(
            *pos,
            Expr::Variable(*pos, name.clone(), Vec::new()),
            fields,
        )),
        Expr::Chain(pos, inner, fields) => {
            rewrite_expr(inner);
            Some(field_call(*pos, (**inner).clone(), fields))
        }
        Expr::Pipe(_, pipe) => {
            rewrite_pipe(pipe);
            None
        }
        _ => None,
    };
    if let Some(replacement) = replacement {
        *expr = replacement;
    }
}

fn rewrite_pipe(pipe: &mut PipeNode) {
    for command in &mut pipe.commands {
        // `.Method arg` (a field followed by arguments) keeps Go's method-call meaning.
        let skip_first = command.args.len() > 1 && matches!(command.args[0], Expr::Field(..));
        for (index, arg) in command.args.iter_mut().enumerate() {
            if !(skip_first && index == 0) {
                rewrite_expr(arg);
            }
        }
    }
}

fn rewrite_list(list: &mut ListNode) {
    for node in &mut list.nodes {
        match node {
            Node::List(inner) => rewrite_list(inner),
            Node::Action(action) => rewrite_pipe(&mut action.pipe),
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                rewrite_pipe(&mut branch.pipe);
                rewrite_list(&mut branch.body);
                if let Some(else_body) = &mut branch.else_body {
                    rewrite_list(else_body);
                }
            }
            Node::Template(template) => {
                if let Some(pipe) = &mut template.pipe {
                    rewrite_pipe(pipe);
                }
            }
            Node::Define(define) => rewrite_list(&mut define.body),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

/// Parses `source` for rendering with Helm's conventions; `strict` makes every missing key an error.
pub fn compile(source: &str, strict: bool) -> Result<CompiledTemplate, TemplateFailure> {
    let parser =
        Parser::with_name(Some(TEMPLATE_NAME), source, "{{", "}}").map_err(template_error)?;
    let (mut tree, defines) = parser.parse().map_err(template_error)?;
    rewrite_list(&mut tree);
    let mut template = Template::new(TEMPLATE_NAME)
        .funcs(functions::sprig().clone())
        .func(FIELD_FUNCTION, move |args| walk_fields(args, strict))
        .missing_key(if strict {
            MissingKey::Error
        } else {
            MissingKey::ZeroValue
        })
        .max_range_iters(MAX_RANGE_ITERATIONS)
        .add_parse_tree(TEMPLATE_NAME, tree);
    for mut define in defines {
        rewrite_list(&mut define.body);
        template = template.add_parse_tree(&define.name, define.body);
    }
    Ok(CompiledTemplate { template, strict })
}

impl CompiledTemplate {
    /// Executes with `data` as dot.
    pub fn execute(&self, data: &Value) -> Result<String, TemplateFailure> {
        let output = self
            .template
            .execute_template_to_string(TEMPLATE_NAME, data)
            .map_err(template_error)?;
        Ok(if self.strict {
            output
        } else {
            output.replace("<no value>", "")
        })
    }
}

/// Renders a one-off template (values macros) leniently: missing fields of missing values are
/// empty rather than errors, so an undefined macro resolves to "" unless it has a `default`.
pub fn render_lenient(source: &str, data: &Value) -> Result<String, TemplateFailure> {
    // Packs repeat the same few macro strings in every request: parse each once.
    static PARSED: LazyLock<Cache<String, Arc<Template>>> = LazyLock::new(|| Cache::new(4096));
    let template = match PARSED.get(source) {
        Some(template) => template,
        None => {
            let template = Arc::new(
                Template::new("macro")
                    .funcs(functions::sprig().clone())
                    .missing_key(MissingKey::ZeroValue)
                    .max_range_iters(MAX_RANGE_ITERATIONS)
                    .parse(source)
                    .map_err(template_error)?,
            );
            PARSED.insert(source.to_owned(), template.clone());
            template
        }
    };
    let output = template.execute_to_string(data).map_err(template_error)?;
    Ok(output.replace("<no value>", ""))
}

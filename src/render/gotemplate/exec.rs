//! Executing parsed templates with Go's rules: field and method lookup, `missingkey`, function calls
//! with argument checks and Go's conversions of constants, pipelines, variables and their scopes,
//! `if`/`with`/`range` (over slices, maps in key order and integers), `break`/`continue` and
//! template calls. Every error carries Go's context: `template: <file>:<line>:<col>: executing
//! "<name>" at <<node>>: <message>`. Every action, loop iteration, function call and template
//! call is checked against the render's budget, and every byte is charged before it is written.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;

use super::ast::{Arg, Branch, Command, ListNode, Node, Number, Pipe, Pos, Tree};
use super::budget::{Budget, Limit};
use super::funcs::{FuncError, FuncMap};
use super::gofmt;
use super::parse::{self, ParseError};
use super::value::{Numbers, Signature, Ty, Value};
use crate::render::golang::quote;

/// Deepest nesting of template calls (`template`, `include`, `tpl`) and blocks while executing.
/// Go allows 100,000 template calls on its growable stacks; charts never come near 1,000.
pub const MAX_EXEC_DEPTH: usize = 1000;

/// What a missing map key yields (Go's `missingkey` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingKey {
    /// The zero value (nil), as Helm renders.
    Zero,
    /// An error, for strict linting.
    Error,
    /// The zero value, and a field of nil is nil too (values macros: an undefined macro is empty).
    Lenient,
}

/// How an execution treats missing keys and numbers it reads from text (`fromYaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub missing_key: MissingKey,
    pub numbers: Numbers,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            missing_key: MissingKey::Zero,
            numbers: Numbers::Integers,
        }
    }
}

/// Why a template did not execute.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// Anything the template got wrong, in Go's words.
    #[error("{0}")]
    Template(TemplateError),
    /// `fail` or `required`: the template's own message, and where it was raised.
    #[error("{message}")]
    Fail { location: String, message: String },
    /// A budget was exceeded.
    #[error(transparent)]
    Limit(#[from] Limit),
}

/// The name of a set's root template, as Helm names it.
pub const ROOT_TEMPLATE: &str = "gotpl";

/// A template's error: Go's message, and the calls it came through as Helm 4 lays them out (one
/// frame per call: where, what was executing, and why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    message: String,
    frames: Vec<Frame>,
    /// The innermost failure is the engine's own (a wrong argument, a missing field, a template
    /// that does not exist), not a function's error: Helm 4 lays out only such chains.
    engine_error: bool,
}

/// One call of a [`TemplateError`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    /// `file:line:column`, or empty for an error raised outside any action.
    location: String,
    /// The executing template's name, quoted.
    name: String,
    /// The node that was executing.
    context: String,
    message: String,
}

impl TemplateError {
    /// An error raised outside any action (Go's `template: no template "x" associated with...`).
    pub fn plain(message: impl Into<String>) -> TemplateError {
        let message = message.into();
        TemplateError {
            engine_error: message.starts_with("template: "),
            frames: vec![Frame {
                location: String::new(),
                name: String::new(),
                context: String::new(),
                message: message.clone(),
            }],
            message,
        }
    }

    /// Go's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message as Helm 4 reports it: each call on its lines (`file:line:col`, `executing
    /// "name" at <node>:`, the reason) when the chain ends in the engine's own error; Go's message
    /// otherwise.
    pub fn helm_message(&self) -> String {
        if !self.engine_error {
            return self.message.clone();
        }
        let mut out = String::new();
        for frame in &self.frames {
            if !frame.location.is_empty() {
                out.push_str(&frame.location);
                out.push_str("\n  ");
            }
            if !frame.context.is_empty() {
                out.push_str(&format!(
                    "executing {} at <{}>:\n    ",
                    frame.name, frame.context
                ));
            }
            out.push_str(&frame.message);
            out.push('\n');
        }
        out.trim().to_owned()
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<TemplateError> for ExecError {
    fn from(error: TemplateError) -> ExecError {
        ExecError::Template(error)
    }
}

/// A set of parsed templates that can call one another (Go's `*template.Template` with its
/// associated templates). Immutable once built, shared between threads.
#[derive(Clone)]
pub struct TemplateSet {
    // foldhash: chart renders build sets of thousands of templates and look names up constantly.
    trees: HashMap<Arc<str>, Arc<Tree>, foldhash::fast::RandomState>,
    funcs: &'static FuncMap,
    /// The name of the set itself (Go's root template), which `include` errors name and `tpl`
    /// parses its text as: Helm's is `gotpl`.
    pub root: Arc<str>,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.trees.keys().map(|k| &**k).collect();
        names.sort_unstable();
        f.debug_struct("TemplateSet")
            .field("templates", &names)
            .finish()
    }
}

impl TemplateSet {
    pub fn new(funcs: &'static FuncMap) -> TemplateSet {
        TemplateSet {
            trees: HashMap::default(),
            funcs,
            root: Arc::from(ROOT_TEMPLATE),
        }
    }

    pub fn funcs(&self) -> &'static FuncMap {
        self.funcs
    }

    /// Parses the file `name` and adds its templates: its own (named `name`) and every template
    /// it defines. A non-empty template replaces one of the same name added earlier; an empty one
    /// never does (Go's `AddParseTree`).
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), ParseError> {
        let funcs = self.funcs;
        let parsed = parse::parse(name, text, &|f| funcs.contains(f))?;
        for tree in parsed.trees {
            self.add_tree(Arc::new(tree));
        }
        Ok(())
    }

    /// Parses `text` as the template `name`, replacing any template of that name even when the
    /// text is empty (Helm's `tpl` renders its text under the current template's name).
    pub fn parse_replacing(&mut self, name: &str, text: &str) -> Result<(), ParseError> {
        let funcs = self.funcs;
        let parsed = parse::parse(name, text, &|f| funcs.contains(f))?;
        for tree in parsed.trees {
            let tree = Arc::new(tree);
            if &*tree.name == name {
                self.trees.insert(tree.name.clone(), tree);
            } else {
                self.add_tree(tree);
            }
        }
        Ok(())
    }

    pub fn add_tree(&mut self, tree: Arc<Tree>) {
        if tree.is_empty() && self.trees.contains_key(&tree.name) {
            return;
        }
        self.trees.insert(tree.name.clone(), tree);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Tree>> {
        self.trees.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(|k| &**k)
    }

    /// Executes the template `name` with `data` as dot.
    pub fn execute(
        &self,
        name: &str,
        data: Value,
        options: Options,
        budget: &Budget,
    ) -> Result<String, ExecError> {
        let mut exec = Exec::new(self, budget, options);
        exec.run(name, data)
    }
}

/// `dot` and whether it came out of an `interface{}` container (a range over a list or map):
/// Go's error messages and argument checks tell those apart from concrete values.
#[derive(Clone)]
pub struct Dot {
    pub value: Value,
    pub iface: bool,
}

struct Var {
    name: Arc<str>,
    value: Value,
    iface: bool,
}

enum Signal {
    Error(ExecError),
    Break,
    Continue,
}

impl From<ExecError> for Signal {
    fn from(error: ExecError) -> Signal {
        Signal::Error(error)
    }
}

impl From<Limit> for Signal {
    fn from(limit: Limit) -> Signal {
        Signal::Error(ExecError::Limit(limit))
    }
}

type R<T> = Result<T, Signal>;

/// One execution: output, variables, depth, budget.
pub struct Exec<'s> {
    set: &'s TemplateSet,
    pub budget: &'s Budget,
    missing_key: MissingKey,
    /// How `fromYaml` types the numbers it reads.
    pub numbers: Numbers,
    out: String,
    /// Output is being captured for a function's result (`include`): charged as an allocation.
    capturing: usize,
    vars: Vec<Var>,
    depth: usize,
    tree: Option<&'s Tree>,
    name: Arc<str>,
    /// Per-name nesting of `include` (Helm refuses more than 1,000).
    pub includes: HashMap<String, usize>,
}

fn invalid_literal<T>() -> R<T> {
    Err(Signal::Error(
        TemplateError::plain("internal error: unexpected literal").into(),
    ))
}

impl<'s> Exec<'s> {
    pub fn new(set: &'s TemplateSet, budget: &'s Budget, options: Options) -> Exec<'s> {
        Exec {
            set,
            budget,
            missing_key: options.missing_key,
            numbers: options.numbers,
            out: String::new(),
            capturing: 0,
            vars: Vec::new(),
            depth: 0,
            tree: None,
            name: Arc::from(""),
            includes: HashMap::new(),
        }
    }

    pub fn set(&self) -> &'s TemplateSet {
        self.set
    }

    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    /// Runs the template `name` from the top.
    pub fn run(&mut self, name: &str, data: Value) -> Result<String, ExecError> {
        let Some(tree) = self.set.get(name) else {
            return Err(TemplateError::plain(format!(
                "template: no template {} associated with template {}",
                quote(name),
                quote(name)
            ))
            .into());
        };
        self.tree = Some(tree);
        self.name = tree.name.clone();
        self.vars = vec![Var {
            name: Arc::from("$"),
            value: data.clone(),
            iface: false,
        }];
        let dot = Dot {
            value: data,
            iface: false,
        };
        match self.walk_list(&dot, &tree.root) {
            Ok(()) => Ok(std::mem::take(&mut self.out)),
            Err(Signal::Error(error)) => Err(error),
            Err(_) => Err(TemplateError::plain("break or continue outside range").into()),
        }
    }

    /// Runs the named template with `dot` and returns its output (Helm's `include`). Charged as
    /// an allocation; the caller's output is untouched.
    pub fn execute_named(&mut self, name: &str, dot: Value) -> Result<String, ExecError> {
        let Some(tree) = self.set.get(name) else {
            return Err(TemplateError::plain(format!(
                "template: no template {} associated with template {}",
                quote(name),
                quote(&self.set.root)
            ))
            .into());
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(TemplateError::plain(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ))
            .into());
        }
        let saved_out = std::mem::take(&mut self.out);
        let saved_vars = std::mem::replace(
            &mut self.vars,
            vec![Var {
                name: Arc::from("$"),
                value: dot.clone(),
                iface: false,
            }],
        );
        let saved_tree = self.tree.replace(tree);
        let saved_name = std::mem::replace(&mut self.name, tree.name.clone());
        self.capturing += 1;
        self.depth += 1;
        let dot = Dot {
            value: dot,
            iface: false,
        };
        let result =
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.walk_list(&dot, &tree.root));
        self.depth -= 1;
        self.capturing -= 1;
        self.name = saved_name;
        self.tree = saved_tree;
        self.vars = saved_vars;
        let captured = std::mem::replace(&mut self.out, saved_out);
        match result {
            Ok(()) => Ok(captured),
            Err(Signal::Error(error)) => Err(error),
            Err(_) => Err(TemplateError::plain("break or continue outside range").into()),
        }
    }

    /// Runs the template `name` of another set (Helm's `tpl`: the text parsed into a copy of
    /// this set) one level deeper, under the same budget and options, with its own `include`
    /// counts as Helm gives it.
    pub fn run_in(
        &mut self,
        set: &TemplateSet,
        name: &str,
        data: Value,
    ) -> Result<String, ExecError> {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(TemplateError::plain(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ))
            .into());
        }
        let options = Options {
            missing_key: self.missing_key,
            numbers: self.numbers,
        };
        let mut child = Exec::new(set, self.budget, options);
        child.depth = self.depth + 1;
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || child.run(name, data))
    }

    fn error_at(&self, pos: Pos, node: &dyn Display, message: impl Display) -> Signal {
        let location = match self.tree {
            Some(tree) => tree.location(pos),
            None => self.name.to_string(),
        };
        let name = quote(&self.name);
        let context = node.to_string();
        let message = message.to_string();
        Signal::Error(ExecError::Template(TemplateError {
            message: format!("template: {location}: executing {name} at <{context}>: {message}"),
            frames: vec![Frame {
                location,
                name,
                context,
                message,
            }],
            engine_error: true,
        }))
    }

    /// A function's failure at `node`: Go's `error calling <name>: ...`, with `inner`'s frames
    /// when the function ran a template that failed (`include`).
    fn calling_error(
        &self,
        pos: Pos,
        node: &dyn Display,
        name: &str,
        inner: Result<TemplateError, String>,
    ) -> Signal {
        let Signal::Error(ExecError::Template(mut error)) =
            self.error_at(pos, node, format!("error calling {name}:"))
        else {
            unreachable!("error_at makes template errors")
        };
        match inner {
            Ok(inner) => {
                error.message = format!("{} {}", error.message, inner.message);
                error.frames.extend(inner.frames);
                error.engine_error = inner.engine_error;
            }
            Err(message) => {
                error.message = format!("{} {message}", error.message);
                if let Some(frame) = error.frames.last_mut() {
                    frame.message = format!("error calling {name}: {message}");
                }
                error.engine_error = false;
            }
        }
        Signal::Error(ExecError::Template(error))
    }

    fn location(&self, pos: Pos) -> String {
        match self.tree {
            Some(tree) => tree.location(pos),
            None => self.name.to_string(),
        }
    }

    fn write(&mut self, text: &str) -> R<()> {
        self.budget.charge(text.len() as u64)?;
        self.out.push_str(text);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Dot, list: &'s ListNode) -> R<()> {
        for node in &list.nodes {
            self.walk_node(dot, node)?;
        }
        Ok(())
    }

    fn walk_node(&mut self, dot: &Dot, node: &'s Node) -> R<()> {
        self.budget.tick()?;
        match node {
            Node::Text { text, .. } => self.write(text),
            Node::Action { pos, pipe } => {
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(*pos, node, &value)?;
                }
                Ok(())
            }
            Node::If(branch) => self.walk_if_with(dot, branch, false),
            Node::With(branch) => self.walk_if_with(dot, branch, true),
            Node::Range(branch) => self.walk_range(dot, node, branch),
            Node::Template { pos, name, pipe } => {
                self.walk_template(dot, *pos, node, name, pipe.as_ref())
            }
            Node::Break { .. } => Err(Signal::Break),
            Node::Continue { .. } => Err(Signal::Continue),
        }
    }

    fn print_value(&mut self, pos: Pos, node: &Node, value: &Value) -> R<()> {
        match value {
            Value::Nil => self.write("<no value>"),
            Value::Str(s) => {
                let s = s.clone();
                self.write(&s)
            }
            // Printed straight into the output, charged as it goes.
            other => {
                let printed = gofmt::write_value(
                    &mut super::budget::Text::new(&mut self.out, self.budget),
                    other,
                );
                printed.map_err(|e| {
                    if e == Limit::Nesting {
                        self.error_at(pos, node, "value nested too deeply to print")
                    } else {
                        e.into()
                    }
                })
            }
        }
    }

    fn enter_block(&mut self, pos: Pos, node: &dyn Display) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_EXEC_DEPTH {
            self.depth -= 1;
            return Err(self.error_at(
                pos,
                node,
                format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"),
            ));
        }
        Ok(())
    }

    fn walk_if_with(&mut self, dot: &Dot, branch: &'s Branch, with: bool) -> R<()> {
        let mark = self.vars.len();
        let result = (|| {
            let value = self.eval_pipeline(dot, &branch.pipe)?;
            self.enter_block(branch.pos, &branch.pipe)?;
            let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                if value.truth() {
                    if with {
                        let inner = Dot {
                            value,
                            iface: false,
                        };
                        self.walk_list(&inner, &branch.list)
                    } else {
                        self.walk_list(dot, &branch.list)
                    }
                } else if let Some(else_list) = &branch.else_list {
                    self.walk_list(dot, else_list)
                } else {
                    Ok(())
                }
            });
            self.depth -= 1;
            result
        })();
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Dot, node: &'s Node, branch: &'s Branch) -> R<()> {
        let outer = self.vars.len();
        let result = (|| {
            let value = self.eval_pipeline(dot, &branch.pipe)?;
            self.enter_block(branch.pos, node)?;
            let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                self.range_over(dot, node, branch, value)
            });
            self.depth -= 1;
            result
        })();
        self.vars.truncate(outer);
        match result {
            Err(Signal::Break) => Ok(()),
            other => other,
        }
    }

    fn range_over(&mut self, dot: &Dot, node: &'s Node, branch: &'s Branch, value: Value) -> R<()> {
        let mark = self.vars.len();
        let ran = match &value {
            Value::List(list) if !list.items.is_empty() => {
                for (i, item) in list.items.iter().enumerate() {
                    self.one_iteration(branch, mark, Value::Int(i as i64), item.clone(), true)?;
                }
                true
            }
            Value::Bytes(bytes) if !bytes.is_empty() => {
                for (i, b) in bytes.iter().enumerate() {
                    self.one_iteration(
                        branch,
                        mark,
                        Value::Int(i as i64),
                        Value::Int(i64::from(*b)),
                        false,
                    )?;
                }
                true
            }
            Value::Map(map) if !map.entries.borrow().is_empty() => {
                // A snapshot: the body may change the map (Go's fmtsort sorts a copy too).
                let entries: Vec<(Value, Value)> = map
                    .entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
                    .collect();
                for (key, item) in entries {
                    self.one_iteration(branch, mark, key, item, true)?;
                }
                true
            }
            Value::Object(object) if object.entries().is_some() => {
                let entries = object.entries().unwrap_or_default();
                let ran = !entries.is_empty();
                for (key, item) in entries {
                    self.one_iteration(branch, mark, key, item, true)?;
                }
                ran
            }
            Value::Int(n) | Value::Int64(n) => {
                if branch.pipe.decl.len() > 1 {
                    return Err(self.error_at(
                        branch.pos,
                        node,
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                let make = |i: i64| {
                    if matches!(value, Value::Int64(_)) {
                        Value::Int64(i)
                    } else {
                        Value::Int(i)
                    }
                };
                for i in 0..*n {
                    self.one_iteration(branch, mark, Value::Nil, make(i), false)?;
                }
                *n > 0
            }
            Value::List(_) | Value::Map(_) | Value::Bytes(_) | Value::Nil => false,
            other => {
                let text = gofmt::to_string(other, self.budget)?;
                return Err(self.error_at(
                    branch.pos,
                    node,
                    format!("range can't iterate over {text}"),
                ));
            }
        };
        if !ran && let Some(else_list) = &branch.else_list {
            self.walk_list(dot, else_list)?;
        }
        Ok(())
    }

    fn one_iteration(
        &mut self,
        branch: &'s Branch,
        mark: usize,
        index: Value,
        element: Value,
        iface: bool,
    ) -> R<()> {
        self.budget.tick()?;
        let decl = &branch.pipe.decl;
        if !decl.is_empty() {
            if branch.pipe.is_assign {
                let target = if decl.len() > 1 {
                    index.clone()
                } else {
                    element.clone()
                };
                self.set_var(
                    branch.pos,
                    &branch.pipe,
                    &decl[0].name,
                    target,
                    iface && decl.len() == 1,
                )?;
            } else {
                let top = self.vars.len() - 1;
                self.vars[top].value = element.clone();
                self.vars[top].iface = iface;
            }
        }
        if decl.len() > 1 {
            if branch.pipe.is_assign {
                self.set_var(
                    branch.pos,
                    &branch.pipe,
                    &decl[1].name,
                    element.clone(),
                    iface,
                )?;
            } else {
                let second = self.vars.len() - 2;
                self.vars[second].value = index;
                self.vars[second].iface = false;
            }
        }
        let dot = Dot {
            value: element,
            iface,
        };
        let result = self.walk_list(&dot, &branch.list);
        self.vars.truncate(mark);
        match result {
            Err(Signal::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_template(
        &mut self,
        dot: &Dot,
        pos: Pos,
        node: &'s Node,
        name: &str,
        pipe: Option<&'s Pipe>,
    ) -> R<()> {
        let Some(tree) = self.set.get(name) else {
            return Err(self.error_at(pos, node, format!("template {} not defined", quote(name))));
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.error_at(
                pos,
                node,
                format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"),
            ));
        }
        let new_dot = match pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Value::Nil,
        };
        let saved_vars = std::mem::replace(
            &mut self.vars,
            vec![Var {
                name: Arc::from("$"),
                value: new_dot.clone(),
                iface: false,
            }],
        );
        let saved_tree = self.tree.replace(tree);
        let saved_name = std::mem::replace(&mut self.name, tree.name.clone());
        self.depth += 1;
        let inner = Dot {
            value: new_dot,
            iface: false,
        };
        let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.walk_list(&inner, &tree.root)
        });
        self.depth -= 1;
        self.name = saved_name;
        self.tree = saved_tree;
        self.vars = saved_vars;
        result
    }

    // Evaluation.

    fn eval_pipeline(&mut self, dot: &Dot, pipe: &'s Pipe) -> R<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?.0);
        }
        let value = value.unwrap_or_default();
        for decl in &pipe.decl {
            if pipe.is_assign {
                self.set_var(decl.pos, pipe, &decl.name, value.clone(), false)?;
            } else {
                self.vars.push(Var {
                    name: decl.name.clone(),
                    value: value.clone(),
                    iface: false,
                });
            }
        }
        Ok(value)
    }

    fn set_var(
        &mut self,
        pos: Pos,
        node: &dyn Display,
        name: &str,
        value: Value,
        iface: bool,
    ) -> R<()> {
        match self.vars.iter_mut().rev().find(|v| &*v.name == name) {
            Some(var) => {
                var.value = value;
                var.iface = iface;
                Ok(())
            }
            None => Err(self.error_at(pos, node, format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, pos: Pos, node: &dyn Display, name: &str) -> R<(Value, bool)> {
        match self.vars.iter().rev().find(|v| &*v.name == name) {
            Some(var) => Ok((var.value.clone(), var.iface)),
            None => Err(self.error_at(pos, node, format!("undefined variable: {name}"))),
        }
    }

    fn not_a_function(&self, args: &[Arg], final_value: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_value.is_some() {
            return Err(self.error_at(
                args[0].pos(),
                &args[0],
                format!("can't give argument to non-function {}", args[0]),
            ));
        }
        Ok(())
    }

    /// A command's value, and whether it came out of an `interface{}` container.
    fn eval_command(
        &mut self,
        dot: &Dot,
        cmd: &'s Command,
        final_value: Option<Value>,
    ) -> R<(Value, bool)> {
        self.budget.tick()?;
        let first = &cmd.args[0];
        match first {
            Arg::Field { ident, .. } => {
                return self.eval_field_chain(
                    dot,
                    dot.value.clone(),
                    dot.iface,
                    first,
                    first,
                    ident,
                    &cmd.args,
                    final_value,
                );
            }
            Arg::Chain { pos, node, fields } => {
                return self.eval_chain(dot, *pos, first, node, fields, &cmd.args, final_value);
            }
            Arg::Identifier { pos, name } => {
                return self
                    .eval_function(dot, *pos, first, cmd, name, &cmd.args, final_value)
                    .map(|v| (v, false));
            }
            Arg::Pipe(pipe) => {
                self.not_a_function(&cmd.args, &final_value)?;
                return stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    self.eval_pipeline(dot, pipe)
                })
                .map(|v| (v, false));
            }
            Arg::Variable { pos, ident } => {
                return self.eval_variable(dot, *pos, first, ident, &cmd.args, final_value);
            }
            _ => {}
        }
        self.not_a_function(&cmd.args, &final_value)?;
        match first {
            Arg::Bool { value, .. } => Ok((Value::Bool(*value), false)),
            Arg::Dot { .. } => Ok((dot.value.clone(), dot.iface)),
            Arg::Nil { pos } => Err(self.error_at(*pos, first, "nil is not a command")),
            Arg::Number(number) => self.ideal_constant(number).map(|v| (v, false)),
            Arg::String { text, .. } => Ok((Value::str(text), false)),
            _ => invalid_literal(),
        }
    }

    fn ideal_constant(&self, number: &Number) -> R<Value> {
        let text = &*number.text;
        let hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let rune = text.starts_with('\'');
        if number.is_float && !hex_int && !rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(number.float));
        }
        if number.is_int {
            return Ok(Value::Int(number.int));
        }
        if number.is_uint {
            return Err(self.error_at(
                number.pos,
                &Arg::Number(Box::new(number.clone())),
                format!("{text} overflows int"),
            ));
        }
        Ok(Value::Nil)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_chain(
        &mut self,
        dot: &Dot,
        pos: Pos,
        node: &'s Arg,
        inner: &'s Arg,
        fields: &'s [Arc<str>],
        args: &'s [Arg],
        final_value: Option<Value>,
    ) -> R<(Value, bool)> {
        if let Arg::Nil { .. } = inner {
            return Err(self.error_at(
                pos,
                node,
                format!("indirection through explicit nil in {node}"),
            ));
        }
        let (receiver, iface) = self.eval_arg(dot, Ty::Reflect, inner)?;
        // Go reports trouble with the fields where evaluating the receiver left it.
        let at = inner.last_evaluated();
        self.eval_field_chain(dot, receiver, iface, at, node, fields, args, final_value)
    }

    fn eval_variable(
        &mut self,
        dot: &Dot,
        pos: Pos,
        node: &'s Arg,
        ident: &'s [Arc<str>],
        args: &'s [Arg],
        final_value: Option<Value>,
    ) -> R<(Value, bool)> {
        let (value, iface) = self.var_value(pos, node, &ident[0])?;
        if ident.len() == 1 {
            self.not_a_function(args, &final_value)?;
            return Ok((value, iface));
        }
        self.eval_field_chain(
            dot,
            value,
            iface,
            node,
            node,
            &ident[1..],
            args,
            final_value,
        )
    }

    #[allow(clippy::too_many_arguments)]
    /// `at` is where Go's executor stands when it evaluates the fields (its errors name it);
    /// `node` is the whole chain (a failed method call names it).
    fn eval_field_chain(
        &mut self,
        dot: &Dot,
        mut receiver: Value,
        mut iface: bool,
        at: &'s Arg,
        node: &'s Arg,
        ident: &'s [Arc<str>],
        args: &'s [Arg],
        final_value: Option<Value>,
    ) -> R<(Value, bool)> {
        let last = ident.len() - 1;
        for name in &ident[..last] {
            (receiver, iface) = self.eval_field(dot, name, at, node, &[], None, receiver, iface)?;
        }
        self.eval_field(
            dot,
            &ident[last],
            at,
            node,
            args,
            final_value,
            receiver,
            iface,
        )
    }

    /// `.name` on `receiver`, with arguments when it is a method.
    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &Dot,
        name: &str,
        at: &'s Arg,
        node: &'s Arg,
        args: &'s [Arg],
        final_value: Option<Value>,
        receiver: Value,
        iface: bool,
    ) -> R<(Value, bool)> {
        let has_args = args.len() > 1 || final_value.is_some();
        let pos = at.pos();
        let call_pos = node.pos();
        match &receiver {
            Value::Nil if !iface => {
                if self.missing_key == MissingKey::Error {
                    return Err(self.error_at(
                        pos,
                        at,
                        format!("nil data; no entry for key {}", quote(name)),
                    ));
                }
                Ok((Value::Nil, false))
            }
            Value::Nil if self.missing_key == MissingKey::Lenient => Ok((Value::Nil, true)),
            Value::Nil => Err(self.error_at(
                pos,
                at,
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Value::Object(object) => {
                if let Some(signature) = object.method(name) {
                    let object = object.clone();
                    let method_args = if args.is_empty() { args } else { &args[1..] };
                    let unusable = signature.unusable;
                    let argv = self.eval_call_args(
                        dot,
                        pos,
                        at,
                        name,
                        signature,
                        method_args,
                        final_value,
                    )?;
                    if let Some(message) = unusable {
                        return Err(self.error_at(pos, at, message));
                    }
                    return match object.call(name, argv, self.budget) {
                        Ok(value) => Ok((value, false)),
                        Err(error) => Err(self.call_error(call_pos, node, name, error)),
                    };
                }
                if let Some(field) = object.field(name) {
                    if has_args {
                        return Err(self.error_at(
                            pos,
                            at,
                            format!("{name} has arguments but cannot be invoked as function"),
                        ));
                    }
                    return Ok((field, false));
                }
                let typ = if iface {
                    "interface {}".to_owned()
                } else {
                    object.type_name().to_owned()
                };
                Err(self.error_at(
                    pos,
                    at,
                    format!("can't evaluate field {name} in type {typ}"),
                ))
            }
            Value::Map(map) => {
                if has_args {
                    return Err(self.error_at(
                        pos,
                        at,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                let found = map.entries.borrow().get(name).cloned();
                match found {
                    Some(value) => Ok((value, true)),
                    None if self.missing_key == MissingKey::Error => Err(self.error_at(
                        pos,
                        at,
                        format!("map has no entry for key {}", quote(name)),
                    )),
                    None => Ok((Value::Nil, true)),
                }
            }
            other => {
                let typ = if iface {
                    "interface {}".to_owned()
                } else {
                    other.type_name()
                };
                Err(self.error_at(
                    pos,
                    at,
                    format!("can't evaluate field {name} in type {typ}"),
                ))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_function(
        &mut self,
        dot: &Dot,
        pos: Pos,
        ident: &'s Arg,
        cmd: &'s Command,
        name: &str,
        args: &'s [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        let Some(func) = self.set.funcs.get(name) else {
            return Err(self.error_at(
                pos,
                ident,
                format!("{} is not a defined function", quote(name)),
            ));
        };
        let call_args = if args.is_empty() { args } else { &args[1..] };
        if name == "and" || name == "or" {
            return self.eval_and_or(dot, pos, ident, name, call_args, final_value);
        }
        // Go's `call` learns the callee's text for its error messages.
        let callee = (name == "call").then(|| match (call_args.first(), &final_value) {
            (Some(arg), _) => arg.to_string(),
            (None, Some(last)) => gofmt::to_string(last, self.budget).unwrap_or_default(),
            (None, None) => String::new(),
        });
        let piped = final_value.is_some();
        let mut argv = self.eval_call_args(
            dot,
            pos,
            ident,
            name,
            func.signature,
            call_args,
            final_value,
        )?;
        // Go's len looks through an interface holding nil ("len of nil pointer"), but the nil a
        // command or parenthesized pipeline hands on is the zero reflect.Value, which it cannot
        // ask for a type.
        if name == "len"
            && matches!(argv.first(), Some(Value::Nil))
            && (piped || matches!(call_args.first(), Some(Arg::Pipe(_))))
        {
            let zero = super::funcs::error("reflect: call of reflect.Value.Type on zero Value");
            return Err(self.call_error(cmd.pos, cmd, name, zero));
        }
        if let Some(callee) = callee {
            argv.insert(0, Value::string(callee));
        }
        match func.call(self, argv) {
            Ok(value) => Ok(value),
            Err(error) => Err(self.call_error(cmd.pos, cmd, name, error)),
        }
    }

    fn call_error(&self, pos: Pos, node: &dyn Display, name: &str, error: FuncError) -> Signal {
        match error {
            FuncError::Message(message) => self.calling_error(pos, node, name, Err(message)),
            FuncError::Fail(message) => Signal::Error(ExecError::Fail {
                location: self.location(pos),
                message,
            }),
            FuncError::Limit(limit) => limit.into(),
            FuncError::Exec(error) => match *error {
                ExecError::Template(inner) => self.calling_error(pos, node, name, Ok(inner)),
                // Go reports where the outermost call failed.
                ExecError::Fail { message, .. } => Signal::Error(ExecError::Fail {
                    location: self.location(pos),
                    message,
                }),
                other => Signal::Error(other),
            },
        }
    }

    fn eval_and_or(
        &mut self,
        dot: &Dot,
        pos: Pos,
        node: &'s Arg,
        name: &str,
        args: &'s [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        if args.is_empty() && final_value.is_none() {
            return Err(self.error_at(
                pos,
                node,
                format!("wrong number of args for {name}: want at least 1 got 0"),
            ));
        }
        let want = name == "or";
        let mut last = Value::Nil;
        for arg in args {
            let (value, _) = self.eval_arg(dot, Ty::Reflect, arg)?;
            if value.truth() == want {
                return Ok(value);
            }
            last = value;
        }
        if let Some(value) = final_value {
            last = value;
        }
        Ok(last)
    }

    /// Evaluates and checks arguments against `signature` (Go's `evalCall` before the call).
    #[allow(clippy::too_many_arguments)]
    fn eval_call_args(
        &mut self,
        dot: &Dot,
        pos: Pos,
        node: &'s Arg,
        name: &str,
        signature: Signature,
        args: &'s [Arg],
        final_value: Option<Value>,
    ) -> R<Vec<Value>> {
        let fixed = signature.params.len();
        let count = args.len() + usize::from(final_value.is_some());
        match signature.variadic {
            Some(_) if count < fixed => {
                return Err(self.error_at(
                    pos,
                    node,
                    format!(
                        "wrong number of args for {name}: want at least {fixed} got {}",
                        args.len()
                    ),
                ));
            }
            None if count != fixed => {
                return Err(self.error_at(
                    pos,
                    node,
                    format!("wrong number of args for {name}: want {fixed} got {count}"),
                ));
            }
            _ => {}
        }
        let mut argv = Vec::with_capacity(count);
        for (i, arg) in args.iter().enumerate() {
            let ty = signature
                .params
                .get(i)
                .copied()
                .or(signature.variadic)
                .unwrap_or(Ty::Any);
            argv.push(self.eval_arg(dot, ty, arg)?.0);
        }
        if let Some(value) = final_value {
            let i = argv.len();
            let ty = signature
                .params
                .get(i)
                .copied()
                .or(signature.variadic)
                .unwrap_or(Ty::Any);
            // Go checks the piped value where the last argument left the executor.
            let checked = match args.last() {
                Some(last) => {
                    let at = last.last_evaluated();
                    self.validate(at.pos(), at, value, false, true, ty)?
                }
                None => self.validate(pos, node, value, false, true, ty)?,
            };
            argv.push(checked);
        }
        Ok(argv)
    }

    /// Go's `validateType`: the value must be assignable to `ty`.
    fn validate(
        &self,
        pos: Pos,
        node: &dyn Display,
        value: Value,
        iface: bool,
        piped: bool,
        ty: Ty,
    ) -> R<Value> {
        let _ = piped;
        if let Value::Nil = value {
            return match ty {
                Ty::Any | Ty::Reflect => Ok(Value::Nil),
                Ty::Map | Ty::List | Ty::StringList if !iface => Ok(Value::Nil),
                _ if iface => Err(self.error_at(
                    pos,
                    node,
                    format!(
                        "wrong type for value; expected {}; got interface {{}}",
                        ty.go_name()
                    ),
                )),
                _ => Err(self.error_at(
                    pos,
                    node,
                    format!("invalid value; expected {}", ty.go_name()),
                )),
            };
        }
        let fits = match ty {
            Ty::Any | Ty::Reflect => true,
            Ty::String => matches!(value, Value::Str(_)),
            Ty::GoString => matches!(value, Value::Str(_) | Value::Bytes(_)),
            Ty::Int => matches!(value, Value::Int(_)),
            Ty::Int64 => matches!(value, Value::Int64(_)),
            Ty::Float64 => matches!(value, Value::Float(_)),
            Ty::Bool => matches!(value, Value::Bool(_)),
            Ty::Map => {
                matches!(&value, Value::Map(m) if m.kind != super::value::MapKind::String)
            }
            Ty::List => {
                matches!(&value, Value::List(l) if l.kind == super::value::ListKind::Interface)
            }
            Ty::StringList => {
                matches!(&value, Value::List(l) if l.kind == super::value::ListKind::String)
            }
            Ty::Named(name) | Ty::NamedInt(name) => {
                matches!(&value, Value::Object(o) if o.type_name() == name)
            }
        };
        if fits {
            return Ok(value);
        }
        Err(self.error_at(
            pos,
            node,
            format!(
                "wrong type for value; expected {}; got {}",
                ty.go_name(),
                value.type_name()
            ),
        ))
    }

    /// Go's `evalArg`: an argument for a parameter of type `ty`.
    fn eval_arg(&mut self, dot: &Dot, ty: Ty, arg: &'s Arg) -> R<(Value, bool)> {
        let pos = arg.pos();
        let (value, iface) = match arg {
            Arg::Dot { .. } => (dot.value.clone(), dot.iface),
            Arg::Nil { .. } => {
                return match ty {
                    Ty::Any | Ty::Reflect | Ty::Map | Ty::List | Ty::StringList => {
                        Ok((Value::Nil, false))
                    }
                    // A pointer parameter takes nil.
                    Ty::Named(name) if name.starts_with('*') => Ok((Value::Nil, false)),
                    _ => Err(self.error_at(
                        pos,
                        arg,
                        format!("cannot assign nil to {}", ty.go_name()),
                    )),
                };
            }
            Arg::Field { ident, .. } => self.eval_field_chain(
                dot,
                dot.value.clone(),
                dot.iface,
                arg,
                arg,
                ident,
                std::slice::from_ref(arg),
                None,
            )?,
            Arg::Variable { ident, .. } => self.eval_variable(dot, pos, arg, ident, &[], None)?,
            Arg::Pipe(pipe) => (
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.eval_pipeline(dot, pipe))?,
                false,
            ),
            Arg::Identifier { name, .. } => {
                let cmd_args: &'s [Arg] = std::slice::from_ref(arg);
                let func = self.set.funcs.get(name);
                let value = match func {
                    None => {
                        return Err(self.error_at(
                            pos,
                            arg,
                            format!("{} is not a defined function", quote(name)),
                        ));
                    }
                    Some(func) if name.as_ref() == "and" || name.as_ref() == "or" => {
                        let _ = func;
                        self.eval_and_or(dot, pos, arg, name, &[], None)?
                    }
                    Some(func) => {
                        let argv = self.eval_call_args(
                            dot,
                            pos,
                            arg,
                            name,
                            func.signature,
                            &cmd_args[1..],
                            None,
                        )?;
                        match func.call(self, argv) {
                            Ok(value) => value,
                            Err(error) => return Err(self.call_error(pos, arg, name, error)),
                        }
                    }
                };
                (value, false)
            }
            Arg::Chain { node, fields, .. } => {
                self.eval_chain(dot, pos, arg, node, fields, &[], None)?
            }
            Arg::Bool { value, .. } => {
                return match ty {
                    Ty::Bool | Ty::Any | Ty::Reflect => Ok((Value::Bool(*value), false)),
                    _ => Err(self.literal_mismatch(arg, ty)),
                };
            }
            Arg::String { text, .. } => {
                return match ty {
                    Ty::String | Ty::GoString | Ty::Any | Ty::Reflect => {
                        Ok((Value::str(text), false))
                    }
                    _ => Err(self.literal_mismatch(arg, ty)),
                };
            }
            Arg::Number(number) => {
                return match ty {
                    Ty::Any | Ty::Reflect => Ok((self.ideal_constant(number)?, false)),
                    Ty::Int if number.is_int => Ok((Value::Int(number.int), false)),
                    Ty::Int64 | Ty::NamedInt(_) if number.is_int => {
                        Ok((Value::Int64(number.int), false))
                    }
                    Ty::Float64 if number.is_float => Ok((Value::Float(number.float), false)),
                    Ty::Int | Ty::Int64 | Ty::NamedInt(_) => {
                        Err(self.error_at(pos, arg, format!("expected integer; found {arg}")))
                    }
                    Ty::Float64 => {
                        Err(self.error_at(pos, arg, format!("expected float; found {arg}")))
                    }
                    _ => Err(self.literal_mismatch(arg, ty)),
                };
            }
        };
        if ty == Ty::Reflect {
            return Ok((value, iface));
        }
        // Go checks the value where evaluating it left the executor.
        let at = arg.last_evaluated();
        Ok((self.validate(at.pos(), at, value, iface, false, ty)?, false))
    }

    fn literal_mismatch(&self, arg: &Arg, ty: Ty) -> Signal {
        let expected = match ty {
            Ty::Bool => "bool",
            Ty::String | Ty::GoString => "string",
            Ty::Int | Ty::Int64 | Ty::NamedInt(_) => "integer",
            Ty::Float64 => "float",
            _ => {
                return self.error_at(
                    arg.pos(),
                    arg,
                    format!("can't handle {arg} for arg of type {}", ty.go_name()),
                );
            }
        };
        self.error_at(arg.pos(), arg, format!("expected {expected}; found {arg}"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::budget::Limits;
    use super::*;
    use std::sync::LazyLock;
    use std::time::Duration;

    static FUNCS: LazyLock<FuncMap> = LazyLock::new(|| {
        let mut funcs = super::super::builtins::builtins();
        funcs.add("upper", &[Ty::String], |_, args| {
            Ok(Value::string(
                args[0].as_str().unwrap_or_default().to_uppercase(),
            ))
        });
        funcs.add("fail", &[Ty::String], |_, args| {
            Err(FuncError::Fail(
                args[0].as_str().unwrap_or_default().to_owned(),
            ))
        });
        funcs.add_variadic("list", &[], Ty::Any, |_, args| Ok(Value::list(args)));
        funcs.add("include", &[Ty::String, Ty::Any], |exec, args| {
            let name = args[0].as_str().unwrap_or_default().to_owned();
            exec.execute_named(&name, args[1].clone())
                .map(Value::string)
                .map_err(|e| FuncError::Exec(Box::new(e)))
        });
        funcs
    });

    fn data() -> Value {
        super::super::value::from_json(
            &serde_json::json!({"Values": {"name": "calico", "n": 3, "list": ["a", "b"], "map": {"b": 2, "a": 1}, "empty": ""}}),
            super::super::value::Numbers::Integers,
        )
    }

    fn run(source: &str) -> Result<String, ExecError> {
        let mut set = TemplateSet::new(&FUNCS);
        set.parse("t.yaml", source)
            .map_err(|e| ExecError::Template(TemplateError::plain(e.to_string())))?;
        set.execute("t.yaml", data(), Options::default(), &Budget::unlimited())
    }

    fn ok(source: &str) -> String {
        run(source).unwrap_or_else(|e| panic!("{source:?}: {e}"))
    }

    fn err(source: &str) -> String {
        match run(source) {
            Ok(out) => panic!("{source:?} rendered {out:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn executes_like_go() {
        assert_eq!(ok("{{ .Values.name }}-{{ .Values.n }}"), "calico-3");
        assert_eq!(ok("{{ .Values.missing }}"), "<no value>");
        assert_eq!(
            ok("{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }};{{ end }}"),
            "0=a;1=b;"
        );
        assert_eq!(
            ok("{{ range $k, $v := .Values.map }}{{ $k }}{{ $v }}{{ end }}"),
            "a1b2"
        );
        assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}"), "012");
        assert_eq!(
            ok("{{ range .Values.missing }}x{{ else }}none{{ end }}"),
            "none"
        );
        assert_eq!(
            ok("{{ range .Values.list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}"),
            "a"
        );
        assert_eq!(
            ok("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}"),
            "2"
        );
        assert_eq!(
            ok("{{ with .Values.name }}{{ . | upper }}{{ else }}no{{ end }}"),
            "CALICO"
        );
        assert_eq!(
            ok("{{ with .Values.empty }}yes{{ else with .Values.name }}{{ . }}{{ end }}"),
            "calico"
        );
        assert_eq!(
            ok("{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" .Values.name }}"),
            "[calico]"
        );
        assert_eq!(
            ok("{{ define \"x\" }}[{{ . }}]{{ end }}{{ include \"x\" 5 | len }}"),
            "3"
        );
        assert_eq!(
            ok("{{ and 1 0 2 }}{{ or 0 \"\" \"z\" }}{{ not .Values.empty }}"),
            "0ztrue"
        );
        assert_eq!(
            ok("{{ index .Values.list 1 }}{{ index .Values.map \"a\" }}{{ len .Values.map }}"),
            "b12"
        );
        assert_eq!(
            ok("{{ printf \"%s=%d\" .Values.name .Values.n }}"),
            "calico=3"
        );
        assert_eq!(ok("{{ list 1 \"a\" 2.5 }}"), "[1 a 2.5]");
        assert_eq!(ok("{{ .Values.map }}"), "map[a:1 b:2]");
        assert_eq!(ok("{{ (index .Values.list 0) | upper }}"), "A");
    }

    #[test]
    fn errors_carry_gos_context() {
        assert_eq!(
            err("line\n  {{ .Values.missing.deeper }}"),
            "template: t.yaml:2:12: executing \"t.yaml\" at <.Values.missing.deeper>: nil pointer evaluating interface {}.deeper"
        );
        assert_eq!(
            err("{{ .Values.name.x }}"),
            "template: t.yaml:1:10: executing \"t.yaml\" at <.Values.name.x>: can't evaluate field x in type interface {}"
        );
        assert_eq!(
            err("{{ upper .Values.n }}"),
            "template: t.yaml:1:16: executing \"t.yaml\" at <.Values.n>: wrong type for value; expected string; got int"
        );
        assert_eq!(
            err("{{ .Values.missing | upper }}"),
            "template: t.yaml:1:21: executing \"t.yaml\" at <upper>: invalid value; expected string"
        );
        assert_eq!(
            err("{{ upper 1 2 }}"),
            "template: t.yaml:1:3: executing \"t.yaml\" at <upper>: wrong number of args for upper: want 1 got 2"
        );
        assert_eq!(
            err("{{ eq .Values.n \"3\" }}"),
            "template: t.yaml:1:3: executing \"t.yaml\" at <eq .Values.n \"3\">: error calling eq: incompatible types for comparison: int and string"
        );
        assert!(
            matches!(run("{{ fail \"boom\" }}"), Err(ExecError::Fail { message, .. }) if message == "boom")
        );
    }

    #[test]
    fn budgets_stop_the_work() {
        let mut set = TemplateSet::new(&FUNCS);
        set.parse("t", "{{ range 100000000 }}x{{ end }}").unwrap();
        let budget = Budget::new(Limits {
            max_bytes: 1000,
            timeout: Duration::from_secs(5),
        });
        assert_eq!(
            set.execute("t", Value::Nil, Options::default(), &budget),
            Err(ExecError::Limit(Limit::Output(1000)))
        );
        set.parse("u", "{{ range 100000000000 }}{{ end }}").unwrap();
        let budget = Budget::new(Limits {
            max_bytes: 1000,
            timeout: Duration::from_millis(50),
        });
        let started = std::time::Instant::now();
        assert_eq!(
            set.execute("u", Value::Nil, Options::default(), &budget),
            Err(ExecError::Limit(Limit::Time(1)))
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn recursion_is_bounded() {
        let mut set = TemplateSet::new(&FUNCS);
        set.parse(
            "t",
            "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}",
        )
        .unwrap();
        let error = set
            .execute("t", Value::Nil, Options::default(), &Budget::unlimited())
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("exceeded maximum template depth (1000)"),
            "{error}"
        );
        set.parse(
            "u",
            "{{ define \"i\" }}{{ include \"i\" . }}{{ end }}{{ include \"i\" . }}",
        )
        .unwrap();
        let error = set
            .execute("u", Value::Nil, Options::default(), &Budget::unlimited())
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("exceeded maximum template depth"),
            "{error}"
        );
    }
}

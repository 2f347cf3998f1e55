//! Helm's engine functions: `include` (a named template rendered to a string, at most 1,000
//! nested calls per name), `tpl` (a string rendered as a template against a context, with every
//! template of the render reachable) and `lookup` (no cluster under `helm template`: an empty
//! map).

use super::{A, S, arg_str};
use crate::render::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use crate::render::gotemplate::value::Value;
use crate::render::gotemplate::{Exec, ExecError};

/// Helm's limit on nested `include`s of one name (1,000), a little lower so that it, and not the
/// engine's depth limit, answers a template that includes itself.
const MAX_INCLUDES: usize = crate::render::gotemplate::exec::MAX_EXEC_DEPTH - 2;

fn include(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let name = arg_str(&args, 0).to_owned();
    let count = exec.includes.entry(name.clone()).or_insert(0);
    if *count >= MAX_INCLUDES {
        return Err(error(format!(
            "rendering template has a nested reference name: {name}: unable to execute template"
        )));
    }
    *count += 1;
    let result = exec.execute_named(&name, args[1].clone());
    if let Some(count) = exec.includes.get_mut(&name) {
        *count -= 1;
    }
    result
        .map(Value::string)
        .map_err(|e| FuncError::Exec(Box::new(e)))
}

/// Helm 4's `tpl`: the text parsed as the set's root template (`gotpl`) into a copy of the set,
/// so that its `define`s and every template of the render are reachable, and run against `vals`.
fn tpl(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let text = arg_str(&args, 0);
    let vals = &args[1];
    exec.budget.charge(text.len() as u64 * 10 + 4096)?;
    let mut set = exec.set().clone();
    let name = set.root.clone();
    let quoted = crate::render::golang::quote(text);
    if let Err(e) = set.parse_replacing(&name, text) {
        return Err(error(format!("cannot parse template {quoted}: {e}")));
    }
    match exec.run_in(&set, &name, vals.clone()) {
        Ok(out) => Ok(Value::string(out.replace("<no value>", ""))),
        Err(ExecError::Limit(limit)) => Err(FuncError::Limit(limit)),
        Err(fail @ ExecError::Fail { .. }) => Err(FuncError::Exec(Box::new(fail))),
        Err(e) => Err(error(format!(
            "error during tpl function execution for {quoted}: {e}"
        ))),
    }
}

/// Helm's `cleanupParseError`: `parse error at (<file:line>): <message>`.
pub fn helm_parse_error(message: &str) -> String {
    let tokens: Vec<&str> = message.split(": ").collect();
    if tokens.len() < 2 {
        return format!("parse error: {message}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

pub fn register(map: &mut FuncMap) {
    map.add("include", &[S, A], include);
    map.add("tpl", &[S, A], tpl);
    map.add("lookup", &[S, S, S, S], |_, _| Ok(Value::empty_map()));
}

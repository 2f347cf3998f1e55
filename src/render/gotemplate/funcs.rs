//! Template functions: each declares its Go signature (so arguments are checked and converted as
//! Go's templates do) and gets the executor, for budgets and for functions that run templates
//! (`include`, `tpl`).

use std::collections::HashMap;

use super::budget::Limit;
use super::exec::{Exec, ExecError};
use super::value::{Signature, Ty, Value};

/// Why a function call failed.
#[derive(Debug)]
pub enum FuncError {
    /// An ordinary error: the call fails with `error calling <name>: <message>`.
    Message(String),
    /// `fail` or `required`: the template's own message, reported as such.
    Fail(String),
    /// A budget was exceeded: the render stops.
    Limit(Limit),
    /// A template run by the function (`include`, `tpl`) failed: passed on as is.
    Exec(Box<ExecError>),
}

impl From<Limit> for FuncError {
    fn from(limit: Limit) -> FuncError {
        FuncError::Limit(limit)
    }
}

pub type FuncResult = Result<Value, FuncError>;

/// A function body: the executor and the checked arguments.
pub type Body = fn(&mut Exec<'_>, Vec<Value>) -> FuncResult;

#[derive(Clone, Copy)]
pub struct Func {
    pub signature: Signature,
    pub body: Body,
    /// One call may take long (key generation, bcrypt, scrypt): the clock is read before and
    /// after each, rather than once in many ticks.
    pub costly: bool,
}

impl Func {
    /// Calls the function with checked arguments.
    pub fn call(&self, exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
        if !self.costly {
            return (self.body)(exec, args);
        }
        let budget = exec.budget;
        budget.timed(|| (self.body)(exec, args))?
    }
}

/// The functions a template set may call, by name.
#[derive(Clone, Default)]
pub struct FuncMap {
    funcs: HashMap<&'static str, Func>,
    /// Names registered more than once (a mistake: the later registration would silently win).
    duplicates: Vec<&'static str>,
}

/// A function library that registers a name more than once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template functions registered more than once: {}", .0.join(", "))]
pub struct DuplicateFunctions(pub Vec<&'static str>);

impl FuncMap {
    pub fn new() -> FuncMap {
        FuncMap::default()
    }

    /// Registers `name` with fixed parameters `params`.
    pub fn add(&mut self, name: &'static str, params: &'static [Ty], body: Body) {
        self.insert(
            name,
            Func {
                signature: Signature {
                    params,
                    variadic: None,
                    unusable: None,
                },
                body,
                costly: false,
            },
        );
    }

    fn insert(&mut self, name: &'static str, func: Func) {
        if self.funcs.insert(name, func).is_some() {
            self.duplicates.push(name);
        }
    }

    /// Refuses a library that registered a name more than once.
    pub fn check(&self) -> Result<(), DuplicateFunctions> {
        if self.duplicates.is_empty() {
            return Ok(());
        }
        let mut names = self.duplicates.clone();
        names.sort_unstable();
        names.dedup();
        Err(DuplicateFunctions(names))
    }

    /// Registers `name` with fixed parameters and a variadic tail of `rest`.
    pub fn add_variadic(
        &mut self,
        name: &'static str,
        params: &'static [Ty],
        rest: Ty,
        body: Body,
    ) {
        self.insert(
            name,
            Func {
                signature: Signature {
                    params,
                    variadic: Some(rest),
                    unusable: None,
                },
                body,
                costly: false,
            },
        );
    }

    /// Marks registered functions as costly (see [`Func::costly`]).
    pub fn mark_costly(&mut self, names: &[&str]) {
        for name in names {
            if let Some(func) = self.funcs.get_mut(*name) {
                func.costly = true;
            }
        }
    }

    /// These functions (Go's builtins) under `user`'s: a user function shadows a builtin of the
    /// same name, as Go looks user functions up first (Sprig's `slice` over Go's).
    pub fn shadowed_by(mut self, user: FuncMap) -> FuncMap {
        self.duplicates.extend(user.duplicates);
        self.funcs.extend(user.funcs);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.funcs.keys().copied()
    }
}

/// An error message for a function (`error calling <name>: ...`).
pub fn error(message: impl Into<String>) -> FuncError {
    FuncError::Message(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_registered_twice_is_an_error() {
        let mut map = FuncMap::new();
        map.add("one", &[], |_, _| Ok(Value::Nil));
        assert_eq!(map.check(), Ok(()));
        map.add("one", &[Ty::String], |_, _| Ok(Value::Nil));
        map.add_variadic("one", &[], Ty::Any, |_, _| Ok(Value::Nil));
        assert_eq!(map.check(), Err(DuplicateFunctions(vec!["one"])));
    }
}

//! Sprig v3's function library and Helm's own functions (`pkg/engine/funcs.go`), with Go's
//! signatures (so arguments are checked and converted as Go's templates do) and the libraries'
//! exact behaviours. Functions that build text or collections charge the render's budget before
//! allocating. Random and time functions read the render's [`random::Entropy`].

mod collections;
mod crypto;
mod dates;
mod encoding;
pub mod helm;
mod numbers;
pub mod random;
mod strings;

use super::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use super::gotemplate::value::{ListKind, Ty, Value};
use super::gotemplate::{Exec, gofmt};

pub(crate) const A: Ty = Ty::Any;
pub(crate) const S: Ty = Ty::String;
pub(crate) const I: Ty = Ty::Int;
pub(crate) const M: Ty = Ty::Map;
pub(crate) const L: Ty = Ty::List;

pub(crate) fn arg_str(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or_default()
}

pub(crate) fn arg_int(args: &[Value], i: usize) -> i64 {
    args.get(i).and_then(Value::as_int).unwrap_or_default()
}

/// Charges the string's bytes and returns it as a value.
pub(crate) fn charged(exec: &Exec<'_>, text: String) -> FuncResult {
    exec.budget.charge(text.len() as u64)?;
    Ok(Value::string(text))
}

/// Sprig's `strval`.
pub(crate) fn strval(value: &Value) -> Result<String, FuncError> {
    Ok(match value {
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => gofmt::to_string(other)?,
    })
}

/// A `[]string` value.
pub(crate) fn string_list(items: Vec<String>) -> Value {
    Value::typed_list(
        ListKind::String,
        items.into_iter().map(Value::string).collect(),
    )
}

/// Go's panic message for a method called on a nil interface (what Sprig's reflection on nil
/// raises).
pub(crate) fn nil_pointer() -> FuncError {
    error("runtime error: invalid memory address or nil pointer dereference")
}

/// Registers every function of this library.
pub fn register(map: &mut FuncMap) {
    strings::register(map);
    numbers::register(map);
    collections::register(map);
    encoding::register(map);
    dates::register(map);
    random::register(map);
    crypto::register(map);
    helm::register(map);
}

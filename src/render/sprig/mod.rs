//! Sprig v3's function library and Helm's own functions (`pkg/engine/funcs.go`), with Go's
//! signatures (so arguments are checked and converted as Go's templates do) and the libraries'
//! exact behaviours. Functions that build text or collections charge the render's budget before
//! allocating. Random and time functions read the render's [`random::Entropy`].

pub mod cases;
mod collections;
mod crypto;
mod dates;
mod encoding;
mod gourl;
pub mod helm;
mod keys;
mod numbers;
pub mod random;
mod semver_values;
mod strings;
mod time_values;
mod toml_out;

pub(crate) use super::functions::{arg_int, arg_str, charged, strval, write_strval};
use super::gotemplate::funcs::{FuncError, FuncMap, error};
use super::gotemplate::value::Ty;

pub(crate) const A: Ty = Ty::Any;
pub(crate) const S: Ty = Ty::String;
pub(crate) const I: Ty = Ty::Int;
pub(crate) const M: Ty = Ty::Map;
pub(crate) const L: Ty = Ty::List;

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

//! Masterminds' `*semver.Version` (what Sprig's `semver` returns) and the `semver.Version` values
//! its `Inc*`/`Set*` methods return, with the methods a template can reach on each: Go finds the
//! pointer-receiver methods (`Major`, `Compare`, `Original`...) on the pointer only, the
//! value-receiver ones (`String`, `IncPatch`, `MarshalJSON`...) on both.

use std::cmp::Ordering;
use std::rc::Rc;

use super::arg_str;
use crate::render::gotemplate::Budget;
use crate::render::gotemplate::funcs::{FuncError, error};
use crate::render::gotemplate::value::{Object, Signature, Ty, Value};
use crate::render::semver::Version;

/// A parameter of type `*semver.Version`.
const VERSION: Ty = Ty::Named("*semver.Version");

/// A version and the text it was parsed from.
#[derive(Debug, Clone)]
pub struct SemverVersion {
    version: Version,
    original: String,
    /// `*semver.Version` (from `semver`) rather than a `semver.Version` value.
    pointer: bool,
}

impl SemverVersion {
    /// Sprig's `semver`: Masterminds' `NewVersion`.
    pub fn parse(text: &str) -> Result<Value, String> {
        let version = Version::parse_strict(text)?;
        Ok(Value::Object(Rc::new(SemverVersion {
            version,
            original: text.to_owned(),
            pointer: true,
        })))
    }

    /// A `semver.Version` value derived from this one, its original rewritten as Masterminds does
    /// (the `v` prefix kept).
    fn derived(&self, version: Version) -> Value {
        let prefix = if self.original.starts_with('v') {
            "v"
        } else {
            ""
        };
        let original = format!("{prefix}{version}");
        Value::Object(Rc::new(SemverVersion {
            version,
            original,
            pointer: false,
        }))
    }
}

fn signature(params: &'static [Ty]) -> Option<Signature> {
    Some(Signature {
        params,
        variadic: None,
        unusable: None,
    })
}

fn other(args: &[Value]) -> Result<&Version, FuncError> {
    match args.first() {
        Some(Value::Object(object)) => object
            .as_any()
            .and_then(|any| any.downcast_ref::<SemverVersion>())
            .map(|v| &v.version)
            .ok_or_else(|| {
                error("runtime error: invalid memory address or nil pointer dereference")
            }),
        _ => Err(error(
            "runtime error: invalid memory address or nil pointer dereference",
        )),
    }
}

impl Object for SemverVersion {
    fn type_name(&self) -> &str {
        if self.pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        }
    }
    fn kind_name(&self) -> &'static str {
        if self.pointer { "ptr" } else { "struct" }
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Signature> {
        let by_value = match name {
            "String" | "IncPatch" | "IncMinor" | "IncMajor" | "MarshalJSON" | "MarshalText"
            | "Value" => signature(&[]),
            "SetPrerelease" | "SetMetadata" => signature(&[Ty::String]),
            _ => None,
        };
        if by_value.is_some() || !self.pointer {
            return by_value;
        }
        match name {
            "Major" | "Minor" | "Patch" | "Prerelease" | "Metadata" | "Original" => signature(&[]),
            "LessThan" | "LessThanEqual" | "GreaterThan" | "GreaterThanEqual" | "Equal"
            | "Compare" => signature(&[VERSION]),
            _ => None,
        }
    }
    fn call(&self, name: &str, args: Vec<Value>, _: &Budget) -> Result<Value, FuncError> {
        let v = &self.version;
        let order = || other(&args).map(|o| v.compare(o));
        Ok(match name {
            "String" | "Value" => Value::string(v.to_string()),
            "Original" => Value::string(self.original.clone()),
            "Major" => Uint64::value(v.major),
            "Minor" => Uint64::value(v.minor),
            "Patch" => Uint64::value(v.patch),
            "Prerelease" => Value::string(v.pre.clone()),
            "Metadata" => Value::string(v.build.clone()),
            "MarshalJSON" => Value::Bytes(format!("\"{v}\"").into_bytes().into()),
            "MarshalText" => Value::Bytes(v.to_string().into_bytes().into()),
            "IncPatch" => self.derived(v.inc_patch()),
            "IncMinor" => self.derived(v.inc_minor()),
            "IncMajor" => self.derived(v.inc_major()),
            "SetPrerelease" => {
                let pre = arg_str(&args, 0);
                crate::render::semver::validate_prerelease(pre).map_err(error)?;
                self.derived(Version {
                    pre: pre.to_owned(),
                    ..v.clone()
                })
            }
            "SetMetadata" => {
                let build = arg_str(&args, 0);
                crate::render::semver::validate_metadata(build).map_err(error)?;
                self.derived(Version {
                    build: build.to_owned(),
                    ..v.clone()
                })
            }
            "Compare" => Value::Int(match order()? {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            }),
            "LessThan" => Value::Bool(order()? == Ordering::Less),
            "LessThanEqual" => Value::Bool(order()? != Ordering::Greater),
            "GreaterThan" => Value::Bool(order()? == Ordering::Greater),
            "GreaterThanEqual" => Value::Bool(order()? != Ordering::Less),
            "Equal" => Value::Bool(order()? == Ordering::Equal),
            _ => return Err(error(format!("{} has no method {name}", self.type_name()))),
        })
    }
    fn format(&self, out: &mut String) {
        out.push_str(&self.version.to_string());
    }
    fn data(&self) -> Option<Value> {
        Some(Value::string(self.version.to_string()))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// A Go `uint64` (what `Major`, `Minor` and `Patch` return): an integer to comparisons,
/// conversions and printing, `uint64` to `typeOf`.
#[derive(Debug)]
pub struct Uint64(u64);

impl Uint64 {
    fn value(n: u64) -> Value {
        Value::Object(Rc::new(Uint64(n)))
    }
}

impl Object for Uint64 {
    fn type_name(&self) -> &str {
        "uint64"
    }
    fn kind_name(&self) -> &'static str {
        "uint64"
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn int_value(&self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }
    fn format(&self, out: &mut String) {
        out.push_str(&self.0.to_string());
    }
    fn data(&self) -> Option<Value> {
        i64::try_from(self.0).ok().map(Value::Int64)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

//! Template values with Go's semantics: maps are references (Sprig's `set` and `merge` change them
//! in place, and every holder sees the change, as in Go), numbers keep Go's types (`int`, `int64`,
//! `float64`), and each value knows its Go type name for `typeOf`, `kindIs` and error messages.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use super::budget::Limit;

/// Strings are shared: copying a value never copies its text.
pub type Str = Rc<str>;

/// The Go element type of a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `[]interface {}`
    Interface,
    /// `[]string`
    String,
    /// `[]int`
    Int,
    /// `[][]interface {}` (Sprig's `chunk`)
    Chunks,
}

/// The Go type of a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// `map[string]interface {}`
    Interface,
    /// `map[string]string`
    String,
    /// Helm's `common.Values` (a chart's `.Values`): a named `map[string]interface{}`, assignable
    /// to it as a parameter but not what a type assertion (`dig`) accepts.
    Values,
}

/// A Go slice. Sprig never changes a slice in place (`append` returns a new one), so the items are
/// immutable; maps inside stay shared.
pub struct List {
    pub kind: ListKind,
    pub items: Vec<Value>,
    /// Go's nil slice (Sprig's `rest` and `initial` of an empty list): empty, but JSON `null`
    /// and not deeply equal to an empty slice.
    pub nil: bool,
}

/// A Go map with string keys, iterated in key order as Go's templates and printing do.
pub struct Map {
    pub kind: MapKind,
    pub entries: RefCell<BTreeMap<Str, Value>>,
    /// Recorded by the render's budget as changed in place (see [`Budget::changed`]).
    ///
    /// [`Budget::changed`]: super::budget::Budget::changed
    pub(super) recorded: std::cell::Cell<bool>,
}

/// A Go struct or pointer with fields and methods (`.Capabilities`, `.Files`, a semver version).
pub trait Object {
    /// Go's type name, as `printf "%T"` and error messages show it.
    fn type_name(&self) -> &str;
    /// Go's kind name (`struct` or `ptr`), as `kindOf` shows it.
    fn kind_name(&self) -> &'static str {
        "ptr"
    }
    /// An exported field.
    fn field(&self, name: &str) -> Option<Value>;
    /// The parameter types of a method, when the object has one by that name (none by default).
    fn method(&self, _name: &str) -> Option<Signature> {
        None
    }
    /// Calls a method whose arguments have been checked against its signature (only names
    /// [`Object::method`] knows reach it).
    fn call(
        &self,
        name: &str,
        _args: Vec<Value>,
        _budget: &super::budget::Budget,
    ) -> Result<Value, super::funcs::FuncError> {
        Err(super::funcs::error(format!(
            "{} has no method {name}",
            self.type_name()
        )))
    }
    /// `%v` (its `String()` method when it has one).
    fn format(&self, out: &mut String);
    /// The object as plain data, for `toJson` and `toYaml` (Go marshals its exported fields);
    /// None encodes its printed form.
    fn data(&self) -> Option<Value> {
        None
    }
    /// The object itself, for functions that take only their own kind of object (Sprig's dates
    /// take a `time.Time`).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// The integer underneath a named integer type (`time.Month`, `time.Duration`), which Go
    /// compares and converts as an integer.
    fn int_value(&self) -> Option<i64> {
        None
    }
    /// The key/value pairs when the object is a Go map underneath (Helm's `.Files`), for `range`,
    /// `len` and truth.
    fn entries(&self) -> Option<Vec<(Value, Value)>> {
        None
    }
}

/// The Go types a function parameter can declare; arguments are checked and converted as Go's
/// templates do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `interface{}`: anything, nil included.
    Any,
    /// `reflect.Value` (Go's builtins): anything, not even nil is refused.
    Reflect,
    String,
    /// Go's `string` where the text may be a binary file's bytes (`.Files.Get` of a binary file,
    /// which packyard holds as bytes because its strings are UTF-8): text or those bytes pass.
    GoString,
    Int,
    Int64,
    Float64,
    Bool,
    /// `map[string]interface{}`
    Map,
    /// `[]interface{}`
    List,
    /// `[]string`
    StringList,
    /// A named Go type an [`Object`] has (`time.Time`, `sprig.certificate`).
    Named(&'static str),
    /// A named integer type (`time.Duration`): an integer constant, or an object of that type
    /// (the callee reads either).
    NamedInt(&'static str),
}

impl Ty {
    pub fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Reflect => "reflect.Value",
            Ty::String | Ty::GoString => "string",
            Ty::Int => "int",
            Ty::Int64 => "int64",
            Ty::Float64 => "float64",
            Ty::Bool => "bool",
            Ty::Map => "map[string]interface {}",
            Ty::List => "[]interface {}",
            Ty::StringList => "[]string",
            Ty::Named(name) | Ty::NamedInt(name) => name,
        }
    }
}

/// A function's or method's parameters: fixed ones, then optionally a variadic tail.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    pub params: &'static [Ty],
    pub variadic: Option<Ty>,
    /// Go's refusal to call a method whose results a template cannot take (more than two, or a
    /// second that is not an error), checked after the argument count.
    pub unusable: Option<&'static str>,
}

#[derive(Clone, Default)]
pub enum Value {
    /// Go's nil (an invalid or nil interface value).
    #[default]
    Nil,
    Bool(bool),
    /// Go `int`.
    Int(i64),
    /// Go `int64` (what Sprig's arithmetic returns).
    Int64(i64),
    Float(f64),
    Str(Str),
    /// Go `[]byte` (`.Files.GetBytes`).
    Bytes(Rc<[u8]>),
    List(Rc<List>),
    Map(Rc<Map>),
    Object(Rc<dyn Object>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        // Debug output is for tests and logs; a value too deep to print says so.
        let budget = super::budget::Budget::unlimited();
        match super::gofmt::write_value(&mut super::budget::Text::new(&mut out, &budget), self) {
            Ok(()) => write!(f, "{}({out})", self.type_name()),
            Err(_) => write!(f, "{}(...)", self.type_name()),
        }
    }
}

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(Rc::from(text))
    }

    pub fn string(text: String) -> Value {
        Value::Str(Rc::from(text))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(List {
            kind: ListKind::Interface,
            items,
            nil: false,
        }))
    }

    pub fn typed_list(kind: ListKind, items: Vec<Value>) -> Value {
        Value::List(Rc::new(List {
            kind,
            items,
            nil: false,
        }))
    }

    /// `[]interface{}(nil)`.
    pub fn nil_list() -> Value {
        Value::List(Rc::new(List {
            kind: ListKind::Interface,
            items: Vec::new(),
            nil: true,
        }))
    }

    pub fn map(entries: BTreeMap<Str, Value>) -> Value {
        Value::Map(Rc::new(Map {
            kind: MapKind::Interface,
            entries: RefCell::new(entries),
            recorded: std::cell::Cell::new(false),
        }))
    }

    pub fn typed_map(kind: MapKind, entries: BTreeMap<Str, Value>) -> Value {
        Value::Map(Rc::new(Map {
            kind,
            entries: RefCell::new(entries),
            recorded: std::cell::Cell::new(false),
        }))
    }

    pub fn empty_map() -> Value {
        Value::map(BTreeMap::new())
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Go's truth, as `if`, `with`, `and`, `or` and `not` see it.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(list) => !list.items.is_empty(),
            Value::Map(map) => !map.entries.borrow().is_empty(),
            Value::Object(object) => object.entries().is_none_or(|e| !e.is_empty()),
        }
    }

    /// Go's type name (`%T`, `typeOf`).
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_owned(),
            Value::Bool(_) => "bool".to_owned(),
            Value::Int(_) => "int".to_owned(),
            Value::Int64(_) => "int64".to_owned(),
            Value::Float(_) => "float64".to_owned(),
            Value::Str(_) => "string".to_owned(),
            Value::Bytes(_) => "[]uint8".to_owned(),
            Value::List(list) => match list.kind {
                ListKind::Interface => "[]interface {}",
                ListKind::String => "[]string",
                ListKind::Int => "[]int",
                ListKind::Chunks => "[][]interface {}",
            }
            .to_owned(),
            Value::Map(map) => match map.kind {
                MapKind::Interface => "map[string]interface {}",
                MapKind::String => "map[string]string",
                MapKind::Values => "common.Values",
            }
            .to_owned(),
            Value::Object(object) => object.type_name().to_owned(),
        }
    }

    /// Go's kind name (`kindOf`, `kindIs`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(object) => object.kind_name(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer of any Go integer type.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            Value::Object(object) => object.int_value(),
            _ => None,
        }
    }

    /// A map's value at `key` (nil when absent or not a map).
    pub fn get(&self, key: &str) -> Value {
        match self {
            Value::Map(map) => map.entries.borrow().get(key).cloned().unwrap_or_default(),
            _ => Value::Nil,
        }
    }

    /// The number of bytes this value holds directly, for budgets: text and bytes by length,
    /// collections by their slots.
    pub fn footprint(&self) -> u64 {
        const SLOT: u64 = 32;
        match self {
            Value::Str(s) => s.len() as u64 + SLOT,
            Value::Bytes(b) => b.len() as u64 + SLOT,
            Value::List(list) => (list.items.len() as u64 + 1) * SLOT,
            Value::Map(map) => (map.entries.borrow().len() as u64 * 2 + 1) * SLOT,
            _ => SLOT,
        }
    }
}

/// Moves the children of collections this value owns alone onto `stack`, so that dropping a deeply
/// nested value (a template can build one in a loop) never recurses.
fn drain(stack: &mut Vec<Value>) {
    while let Some(value) = stack.pop() {
        match value {
            Value::Map(map) => {
                if let Ok(map) = Rc::try_unwrap(map) {
                    stack.extend(map.entries.take().into_values());
                }
            }
            Value::List(list) => {
                if let Ok(mut list) = Rc::try_unwrap(list) {
                    stack.append(&mut list.items);
                }
            }
            _ => {}
        }
    }
}

fn owns_a_collection<'v>(mut values: impl Iterator<Item = &'v Value>) -> bool {
    values.any(|value| match value {
        Value::Map(map) => Rc::strong_count(map) == 1,
        Value::List(list) => Rc::strong_count(list) == 1,
        _ => false,
    })
}

impl Drop for Map {
    fn drop(&mut self) {
        let entries = self.entries.get_mut();
        if owns_a_collection(entries.values()) {
            let mut stack: Vec<Value> = std::mem::take(entries).into_values().collect();
            drain(&mut stack);
        }
    }
}

impl Drop for List {
    fn drop(&mut self) {
        if owns_a_collection(self.items.iter()) {
            let mut stack = std::mem::take(&mut self.items);
            drain(&mut stack);
        }
    }
}

/// How numbers from values documents become template numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Integers stay `int` (packyard's manifest packs: `1000000` prints as `1000000`).
    Integers,
    /// Every number is `float64`, as Helm reads values through JSON (`1000000` prints as `1e+06`).
    Float64,
}

/// The deepest nesting any value walker follows (printing, encoding, copying); deeper values
/// are an error rather than a stack overflow.
pub const MAX_NESTING: usize = 1000;

/// A JSON-shaped value (as packyard stores values) as a template value.
pub fn from_json(value: &serde_json::Value, numbers: Numbers) -> Value {
    match value {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match numbers {
            Numbers::Integers => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            Numbers::Float64 => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(items) => {
            Value::list(items.iter().map(|v| from_json(v, numbers)).collect())
        }
        serde_json::Value::Object(map) => Value::map(
            map.iter()
                .map(|(k, v)| (Str::from(k.as_str()), from_json(v, numbers)))
                .collect(),
        ),
    }
}

/// A template value as JSON (objects and bytes as Go's encoding/json would see them roughly:
/// bytes as base64 text, objects as their printed form). Each node is charged to `budget` as it is
/// built: shared structure expands here.
pub fn to_json(
    value: &Value,
    budget: &super::budget::Budget,
    depth: usize,
) -> Result<serde_json::Value, Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    budget.charge(value.footprint())?;
    Ok(match value {
        Value::Nil => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) | Value::Int64(i) => serde_json::Value::from(*i),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                serde_json::Value::from(*f as i64)
            } else {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
        }
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => {
            use base64::Engine;
            budget.charge(b.len() as u64 / 3 + 4)?;
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::List(list) if list.nil => serde_json::Value::Null,
        Value::List(list) => {
            let mut items = Vec::with_capacity(list.items.len());
            for item in &list.items {
                items.push(to_json(item, budget, depth + 1)?);
            }
            serde_json::Value::Array(items)
        }
        Value::Map(map) => {
            let mut entries = serde_json::Map::new();
            for (k, v) in map.entries.borrow().iter() {
                entries.insert(k.to_string(), to_json(v, budget, depth + 1)?);
            }
            serde_json::Value::Object(entries)
        }
        Value::Object(object) => {
            let mut text = String::new();
            object.format(&mut text);
            budget.charge(text.len() as u64)?;
            serde_json::Value::String(text)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_shared_references() {
        let map = Value::empty_map();
        let alias = map.clone();
        if let Value::Map(inner) = &map {
            inner
                .entries
                .borrow_mut()
                .insert(Str::from("k"), Value::Int(1));
        }
        assert_eq!(alias.get("k").as_int(), Some(1));
    }

    #[test]
    fn dropping_a_deeply_nested_value_does_not_overflow_the_stack() {
        let mut value = Value::empty_map();
        for _ in 0..1_000_000 {
            value = Value::map(BTreeMap::from([(Str::from("a"), value)]));
        }
        drop(value);
        let mut list = Value::list(Vec::new());
        for _ in 0..1_000_000 {
            list = Value::list(vec![list]);
        }
        drop(list);
    }

    #[test]
    fn json_numbers_follow_the_chosen_convention() {
        let json = serde_json::json!({"n": 1000000, "f": 1.5});
        let ints = from_json(&json, Numbers::Integers);
        assert!(matches!(ints.get("n"), Value::Int(1_000_000)));
        let floats = from_json(&json, Numbers::Float64);
        assert!(matches!(floats.get("n"), Value::Float(f) if f == 1e6));
        let budget = super::super::budget::Budget::unlimited();
        assert_eq!(to_json(&floats, &budget, 0).unwrap(), json);
    }
}

//! Sprig's lists and dicts: Go slices of any element type read through reflection (so `first`
//! works on a `[]string` too), `reflect.DeepEqual` for membership, and mergo's rules for `merge`
//! and `mergeOverwrite` (maps merge deeply and share what they copy, as in Go).
//!
//! Lists and maps share structure, so every walk here ticks the budget once per node it visits,
//! and every collection is charged before it is built.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::rc::Rc;

use super::{A, I, M, S, arg_str, nil_pointer, strval};
use crate::render::functions::is_empty;
use crate::render::gotemplate::Limit;
use crate::render::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use crate::render::gotemplate::value::{List, ListKind, MAX_NESTING, Map, MapKind, Str, Value};
use crate::render::gotemplate::{Budget, Exec};

/// The items of a slice argument, or Sprig's error for anything else (nil panics in Go).
fn items(value: &Value, what: &str) -> Result<Rc<List>, FuncError> {
    match value {
        Value::List(list) => Ok(list.clone()),
        // A Go slice behind an object (`.Capabilities.APIVersions`).
        Value::Object(object) if object.kind_name() == "slice" => Ok(Rc::new(List {
            kind: ListKind::String,
            items: object
                .entries()
                .unwrap_or_default()
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
            nil: false,
        })),
        Value::Nil => Err(nil_pointer()),
        // Sprig prints the reflect.Kind: "map", not the map's type.
        other if what == "chunk" => Err(error(format!("Cannot chunk type {}", other.kind_name()))),
        other => Err(error(format!(
            "Cannot {what} on type {}",
            other.kind_name()
        ))),
    }
}

/// What a new list of `len` items costs, charged before it is built.
fn charge_list(exec: &Exec<'_>, len: usize) -> Result<(), Limit> {
    exec.budget.charge(len as u64 * 32 + 32)
}

fn new_list(exec: &Exec<'_>, items: Vec<Value>) -> FuncResult {
    charge_list(exec, items.len())?;
    Ok(Value::list(items))
}

/// A slice of the same element type.
fn same_kind(list: &List, items: Vec<Value>) -> Value {
    Value::typed_list(list.kind, items)
}

/// `reflect.DeepEqual` on template values. As in Go, a pair of collections already under
/// comparison counts as equal when it comes round again, so shared structure is compared once
/// (not once per path to it) and cycles end; each node visited ticks the budget.
pub fn deep_equal(a: &Value, b: &Value, budget: &Budget) -> Result<bool, Limit> {
    equal(a, b, budget, &mut HashSet::new(), 0)
}

/// Whether a collection may be reached by more than one path (only then can its pairs repeat).
fn shared<T>(rc: &Rc<T>) -> bool {
    Rc::strong_count(rc) > 1
}

/// Records the pair of collections at `x` and `y`; false when it was already recorded.
fn first_visit(
    x: *const (),
    y: *const (),
    budget: &Budget,
    seen: &mut HashSet<(usize, usize)>,
) -> Result<bool, Limit> {
    let (x, y) = (x as usize, y as usize);
    let key = if x <= y { (x, y) } else { (y, x) };
    if seen.contains(&key) {
        return Ok(false);
    }
    // The set is memory the comparison holds: charged like what it records.
    budget.charge(32)?;
    seen.insert(key);
    Ok(true)
}

fn equal(
    a: &Value,
    b: &Value,
    budget: &Budget,
    seen: &mut HashSet<(usize, usize)>,
    depth: usize,
) -> Result<bool, Limit> {
    budget.tick()?;
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    Ok(match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if x.kind != y.kind || x.nil != y.nil || x.items.len() != y.items.len() {
                return Ok(false);
            }
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            if (shared(x) || shared(y))
                && !first_visit(Rc::as_ptr(x).cast(), Rc::as_ptr(y).cast(), budget, seen)?
            {
                return Ok(true);
            }
            for (p, q) in x.items.iter().zip(&y.items) {
                if !equal(p, q, budget, seen, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (x_entries, y_entries) = (x.entries.borrow(), y.entries.borrow());
            if x.kind != y.kind || x_entries.len() != y_entries.len() {
                return Ok(false);
            }
            if (shared(x) || shared(y))
                && !first_visit(Rc::as_ptr(x).cast(), Rc::as_ptr(y).cast(), budget, seen)?
            {
                return Ok(true);
            }
            for (k, v) in x_entries.iter() {
                let Some(w) = y_entries.get(k) else {
                    return Ok(false);
                };
                if !equal(v, w, budget, seen, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        _ => false,
    })
}

/// copystructure's deep copy: maps and slices are copied (shared structure becomes as many
/// copies as it has paths, each charged before it is made), everything else is shared.
pub fn deep_copy(value: &Value, budget: &Budget, depth: usize) -> Result<Value, Limit> {
    budget.tick()?;
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    Ok(match value {
        Value::List(list) => {
            budget.charge(value.footprint())?;
            let mut items = Vec::with_capacity(list.items.len());
            for item in &list.items {
                items.push(deep_copy(item, budget, depth + 1)?);
            }
            Value::typed_list(list.kind, items)
        }
        Value::Map(map) => {
            budget.charge(value.footprint())?;
            let mut entries = BTreeMap::new();
            for (k, v) in map.entries.borrow().iter() {
                entries.insert(k.clone(), deep_copy(v, budget, depth + 1)?);
            }
            Value::typed_map(map.kind, entries)
        }
        other => other.clone(),
    })
}

/// The entry of `map` after `key` (the first with `None`), read without holding the map: `dst`
/// and `src` may be the same map, and a snapshot of each map at each level would cost memory
/// that shared structure multiplies.
fn next_entry(map: &Map, after: Option<&Str>) -> Option<(Str, Value)> {
    let entries = map.entries.borrow();
    let mut range = match after {
        Some(key) => entries.range::<Str, _>((Bound::Excluded(key), Bound::Unbounded)),
        None => entries.range::<Str, _>(..),
    };
    range.next().map(|(k, v)| (k.clone(), v.clone()))
}

/// mergo's `deepMerge` of one `map[string]interface{}` into another (see the module comment).
fn merge_into(
    dst: &Rc<Map>,
    src: &Map,
    overwrite: bool,
    budget: &Budget,
    depth: usize,
) -> Result<(), Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    budget.changed(dst)?;
    let mut cursor: Option<Str> = None;
    while let Some((key, sv)) = next_entry(src, cursor.as_ref()) {
        budget.tick()?;
        cursor = Some(key.clone());
        let dv = dst.entries.borrow().get(&key).cloned();
        let insert = |value: Value| -> Result<(), Limit> {
            let mut entries = dst.entries.borrow_mut();
            if !entries.contains_key(&key) {
                budget.charge(64)?;
            }
            entries.insert(key.clone(), value);
            Ok(())
        };
        if sv.is_nil() {
            if overwrite {
                insert(Value::Nil)?;
            }
            continue;
        }
        match &sv {
            Value::Map(sm) => {
                if let Some(Value::Map(dm)) = &dv
                    && !Rc::ptr_eq(dm, sm)
                {
                    merge_into(dm, sm, overwrite, budget, depth + 1)?;
                }
                if dv.as_ref().is_some_and(|d| !is_empty(d)) {
                    continue;
                }
            }
            Value::List(_) if dv.as_ref().is_some_and(|d| !is_empty(d)) => {
                if overwrite {
                    insert(sv)?;
                }
                continue;
            }
            _ => {}
        }
        if overwrite || dv.as_ref().is_none_or(is_empty) {
            insert(sv)?;
        }
    }
    Ok(())
}

fn merge(exec: &mut Exec<'_>, args: Vec<Value>, overwrite: bool) -> FuncResult {
    let Value::Map(dst) = &args[0] else {
        return Ok(args[0].clone());
    };
    for src in &args[1..] {
        if let Value::Map(src) = src {
            merge_into(dst, src, overwrite, exec.budget, 0)?;
        }
    }
    Ok(args[0].clone())
}

fn map_arg(value: &Value) -> Option<&Map> {
    match value {
        Value::Map(map) => Some(map),
        _ => None,
    }
}

/// A value's dynamic type as a failed type assertion names it ("nil" for none).
fn go_interface_name(value: &Value) -> String {
    if value.is_nil() {
        "nil".to_owned()
    } else {
        value.type_name()
    }
}

fn dig(args: &[Value]) -> FuncResult {
    if args.len() < 3 {
        return Err(error("dig needs at least three arguments"));
    }
    let Some(Value::Map(mut map)) = args.last().cloned() else {
        return Err(error(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            args.last().map(go_interface_name).unwrap_or_default()
        )));
    };
    if map.kind != MapKind::Interface {
        return Err(error(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            args[args.len() - 1].type_name()
        )));
    }
    let default = &args[args.len() - 2];
    let keys = &args[..args.len() - 2];
    for (i, key) in keys.iter().enumerate() {
        let Value::Str(key) = key else {
            return Err(error(format!(
                "interface conversion: interface {{}} is {}, not string",
                go_interface_name(key)
            )));
        };
        let step = map.entries.borrow().get(&**key).cloned();
        let Some(step) = step else {
            return Ok(default.clone());
        };
        if i == keys.len() - 1 {
            return Ok(step);
        }
        match step {
            Value::Map(next) if next.kind == MapKind::Interface => map = next,
            other => {
                return Err(error(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    if other.is_nil() {
                        "nil".to_owned()
                    } else {
                        other.type_name()
                    }
                )));
            }
        }
    }
    Ok(default.clone())
}

/// Sprig's `slice`: Go's reflection slices, with its messages.
fn slice(exec: &Exec<'_>, args: &[Value]) -> FuncResult {
    let list = match &args[0] {
        Value::Nil => return Err(nil_pointer()),
        Value::List(_) | Value::Object(_) => items(&args[0], "slice")?,
        other => {
            return Err(error(format!(
                "list should be type of slice or array but {}",
                other.kind_name()
            )));
        }
    };
    let len = list.items.len();
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = args.get(1).map_or(0, super::numbers::to_int64);
    let end = args.get(2).map_or(len as i64, super::numbers::to_int64);
    if start < 0 || end < start || end as usize > len {
        return Err(error("reflect.Value.Slice: slice index out of bounds"));
    }
    charge_list(exec, (end - start) as usize)?;
    Ok(same_kind(
        &list,
        list.items[start as usize..end as usize].to_vec(),
    ))
}

pub fn register(map: &mut FuncMap) {
    register_building(map);
    register_reading(map);
    register_slicing(map);
    register_dicts(map);
}

/// Lists made or grown: `tuple`, `append`/`push`, `prepend` (and their `must` forms).
fn register_building(map: &mut FuncMap) {
    map.add_variadic("tuple", &[], A, |exec, args| new_list(exec, args));
    for name in ["append", "push", "mustAppend", "mustPush"] {
        map.add(name, &[A, A], |exec, args| {
            let list = items(&args[0], "push")?;
            charge_list(exec, list.items.len() + 1)?;
            let mut out = Vec::with_capacity(list.items.len() + 1);
            out.extend(list.items.iter().cloned());
            out.push(args[1].clone());
            Ok(Value::list(out))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        map.add(name, &[A, A], |exec, args| {
            let list = items(&args[0], "prepend")?;
            charge_list(exec, list.items.len() + 1)?;
            let mut out = Vec::with_capacity(list.items.len() + 1);
            out.push(args[1].clone());
            out.extend(list.items.iter().cloned());
            Ok(Value::list(out))
        });
    }
}

/// A list's ends: `first`, `last`.
fn register_reading(map: &mut FuncMap) {
    for name in ["first", "mustFirst"] {
        map.add(name, &[A], |_, args| {
            Ok(items(&args[0], "find first")?
                .items
                .first()
                .cloned()
                .unwrap_or_default())
        });
    }
    for name in ["last", "mustLast"] {
        map.add(name, &[A], |_, args| {
            Ok(items(&args[0], "find last")?
                .items
                .last()
                .cloned()
                .unwrap_or_default())
        });
    }
}

/// Lists made from lists, and membership: `rest`, `initial`, `reverse`, `uniq`, `compact`,
/// `without`, `has`, `slice`, `concat`, `chunk`, `sortAlpha`.
fn register_slicing(map: &mut FuncMap) {
    for name in ["rest", "mustRest"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find rest")?;
            if list.items.is_empty() {
                return Ok(Value::nil_list());
            }
            charge_list(exec, list.items.len() - 1)?;
            Ok(Value::list(list.items[1..].to_vec()))
        });
    }
    for name in ["initial", "mustInitial"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find initial")?;
            if list.items.is_empty() {
                return Ok(Value::nil_list());
            }
            charge_list(exec, list.items.len() - 1)?;
            Ok(Value::list(list.items[..list.items.len() - 1].to_vec()))
        });
    }
    for name in ["reverse", "mustReverse"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find reverse")?;
            charge_list(exec, list.items.len())?;
            Ok(Value::list(list.items.iter().rev().cloned().collect()))
        });
    }
    for name in ["uniq", "mustUniq"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find uniq")?;
            charge_list(exec, list.items.len())?;
            let mut out: Vec<Value> = Vec::new();
            for item in &list.items {
                let mut found = false;
                for seen in &out {
                    if deep_equal(seen, item, exec.budget)? {
                        found = true;
                        break;
                    }
                }
                if !found {
                    out.push(item.clone());
                }
            }
            Ok(Value::list(out))
        });
    }
    for name in ["compact", "mustCompact"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "compact")?;
            charge_list(exec, list.items.len())?;
            exec.budget
                .work(u32::try_from(list.items.len()).unwrap_or(u32::MAX))?;
            Ok(Value::list(
                list.items
                    .iter()
                    .filter(|v| !is_empty(v))
                    .cloned()
                    .collect(),
            ))
        });
    }
    for name in ["without", "mustWithout"] {
        map.add_variadic(name, &[A], A, |exec, args| {
            let list = items(&args[0], "find without")?;
            let omit = &args[1..];
            charge_list(exec, list.items.len())?;
            let mut kept = Vec::new();
            for item in &list.items {
                let mut omitted = false;
                for o in omit {
                    if deep_equal(o, item, exec.budget)? {
                        omitted = true;
                        break;
                    }
                }
                if !omitted {
                    kept.push(item.clone());
                }
            }
            Ok(Value::list(kept))
        });
    }
    for name in ["has", "mustHas"] {
        map.add(name, &[A, A], |exec, args| {
            if args[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            let list = items(&args[1], "find has")?;
            for item in &list.items {
                if deep_equal(&args[0], item, exec.budget)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        });
    }
    for name in ["slice", "mustSlice"] {
        map.add_variadic(name, &[A], A, |exec, args| slice(exec, &args));
    }
    map.add_variadic("concat", &[], A, |exec, args| {
        let mut len = 0usize;
        for arg in &args {
            match arg {
                Value::List(list) => len = len.saturating_add(list.items.len()),
                Value::Nil => return Err(nil_pointer()),
                other => {
                    return Err(error(format!(
                        "Cannot concat type {} as list",
                        other.kind_name()
                    )));
                }
            }
        }
        // Sprig appends to a nil slice: nothing appended leaves it nil.
        if len == 0 {
            return Ok(Value::nil_list());
        }
        charge_list(exec, len)?;
        let mut out = Vec::with_capacity(len);
        for arg in &args {
            if let Value::List(list) = arg {
                out.extend(list.items.iter().cloned());
            }
        }
        Ok(Value::list(out))
    });
    for name in ["chunk", "mustChunk"] {
        map.add(name, &[I, A], |exec, args| {
            let size = super::arg_int(&args, 0);
            let list = items(&args[1], "chunk")?;
            // Sprig sizes its chunks from a float division: any size below 1 makes a slice Go
            // cannot make.
            if size <= 0 {
                return Err(error("runtime error: makeslice: len out of range"));
            }
            let count = list.items.len().div_ceil(size as usize);
            exec.budget
                .charge(list.items.len() as u64 * 32 + count as u64 * 64 + 32)?;
            let chunks: Vec<Value> = list
                .items
                .chunks(size as usize)
                .map(|c| Value::list(c.to_vec()))
                .collect();
            Ok(Value::typed_list(
                super::super::gotemplate::value::ListKind::Chunks,
                chunks,
            ))
        });
    }
    {
        map.add("sortAlpha", &[A], |exec, args| {
            let budget = exec.budget;
            let mut strings: Vec<Value> = match &args[0] {
                Value::List(list) => {
                    charge_list(exec, list.items.len())?;
                    let mut out = Vec::with_capacity(list.items.len());
                    // Sprig's strslice leaves nils out.
                    for item in list.items.iter().filter(|v| !v.is_nil()) {
                        out.push(match item {
                            Value::Str(_) => item.clone(),
                            other => Value::string(strval(other, budget)?.into_owned()),
                        });
                    }
                    out
                }
                other => vec![Value::string(strval(other, budget)?.into_owned())],
            };
            exec.budget
                .work(u32::try_from(strings.len()).unwrap_or(u32::MAX))?;
            strings.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Ok(Value::typed_list(ListKind::String, strings))
        });
    }
}

/// Dicts: `get`, `set`, `unset`, `pluck`, `pick`, `omit`, `values`, `dig`, `merge`,
/// `mergeOverwrite`, `deepCopy`, `deepEqual`.
fn register_dicts(map: &mut FuncMap) {
    map.add("get", &[M, S], |_, args| {
        Ok(map_arg(&args[0])
            .and_then(|m| m.entries.borrow().get(arg_str(&args, 1)).cloned())
            .unwrap_or_else(|| Value::str("")))
    });
    map.add("set", &[M, S, A], |exec, args| {
        exec.budget.charge(64)?;
        if let Value::Map(map) = &args[0] {
            exec.budget.changed(map)?;
            map.entries
                .borrow_mut()
                .insert(Str::from(arg_str(&args, 1)), args[2].clone());
        }
        Ok(args[0].clone())
    });
    map.add("unset", &[M, S], |_, args| {
        if let Some(map) = map_arg(&args[0]) {
            map.entries.borrow_mut().remove(arg_str(&args, 1));
        }
        Ok(args[0].clone())
    });
    map.add_variadic("pluck", &[S], M, |exec, args| {
        let key = arg_str(&args, 0);
        charge_list(exec, args.len())?;
        let found: Vec<Value> = args[1..]
            .iter()
            .filter_map(map_arg)
            .filter_map(|m| m.entries.borrow().get(key).cloned())
            .collect();
        Ok(Value::list(found))
    });
    map.add_variadic("pick", &[M], S, |exec, args| {
        exec.budget.charge(args.len() as u64 * 64)?;
        let picked: BTreeMap<Str, Value> = match map_arg(&args[0]) {
            Some(source) => {
                let source = source.entries.borrow();
                args[1..]
                    .iter()
                    .filter_map(|k| k.as_str())
                    .filter_map(|k| source.get(k).map(|v| (Str::from(k), v.clone())))
                    .collect()
            }
            None => BTreeMap::new(),
        };
        Ok(Value::map(picked))
    });
    map.add_variadic("omit", &[M], S, |exec, args| {
        let omit: Vec<&str> = args[1..].iter().filter_map(Value::as_str).collect();
        let size = map_arg(&args[0]).map_or(0, |m| m.entries.borrow().len());
        exec.budget.charge(size as u64 * 64)?;
        exec.budget
            .work(u32::try_from(size.saturating_mul(omit.len().max(1))).unwrap_or(u32::MAX))?;
        let kept: BTreeMap<Str, Value> = map_arg(&args[0])
            .map(|m| {
                m.entries
                    .borrow()
                    .iter()
                    .filter(|(k, _)| !omit.contains(&&***k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Value::map(kept))
    });
    map.add("values", &[M], |exec, args| {
        charge_list(
            exec,
            map_arg(&args[0]).map_or(0, |m| m.entries.borrow().len()),
        )?;
        let found: Vec<Value> = map_arg(&args[0])
            .map(|m| m.entries.borrow().values().cloned().collect())
            .unwrap_or_default();
        Ok(Value::list(found))
    });
    map.add_variadic("dig", &[], A, |_, args| dig(&args));
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        let body: crate::render::gotemplate::funcs::Body = if overwrite {
            |exec, args| merge(exec, args, true)
        } else {
            |exec, args| merge(exec, args, false)
        };
        map.add_variadic(name, &[M], M, body);
    }
    for name in ["deepCopy", "mustDeepCopy"] {
        map.add(name, &[A], |exec, args| {
            if args[0].is_nil() {
                // copystructure asks reflection for the type of nothing.
                return Err(error("reflect: call of reflect.Value.Type on zero Value"));
            }
            Ok(deep_copy(&args[0], exec.budget, 0)?)
        });
    }
    map.add("deepEqual", &[A, A], |exec, args| {
        Ok(Value::Bool(deep_equal(&args[0], &args[1], exec.budget)?))
    });
}

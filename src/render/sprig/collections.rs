//! Sprig's lists and dicts: Go slices of any element type read through reflection (so `first`
//! works on a `[]string` too), `reflect.DeepEqual` for membership, and mergo's rules for `merge`
//! and `mergeOverwrite` (maps merge deeply and share what they copy, as in Go).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::{A, I, M, S, arg_str, nil_pointer, strval};
use crate::render::functions::is_empty;
use crate::render::gotemplate::Exec;
use crate::render::gotemplate::Limit;
use crate::render::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use crate::render::gotemplate::value::{List, ListKind, MAX_NESTING, Map, MapKind, Str, Value};

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
        })),
        Value::Nil => Err(nil_pointer()),
        other => Err(error(format!(
            "Cannot {what} on type {}",
            other.type_name()
        ))),
    }
}

fn new_list(exec: &Exec<'_>, items: Vec<Value>) -> FuncResult {
    exec.budget.charge(items.len() as u64 * 32 + 32)?;
    Ok(Value::list(items))
}

/// A slice of the same element type.
fn same_kind(list: &List, items: Vec<Value>) -> Value {
    Value::typed_list(list.kind, items)
}

/// `reflect.DeepEqual` on template values.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.kind == y.kind
                && x.items.len() == y.items.len()
                && x.items.iter().zip(&y.items).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x_entries, y_entries) = (x.entries.borrow(), y.entries.borrow());
            x.kind == y.kind
                && x_entries.len() == y_entries.len()
                && x_entries
                    .iter()
                    .all(|(k, v)| y_entries.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// copystructure's deep copy: maps and slices are copied, everything else is shared.
pub fn deep_copy(value: &Value, depth: usize) -> Result<Value, Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    Ok(match value {
        Value::List(list) => Value::typed_list(
            list.kind,
            list.items
                .iter()
                .map(|v| deep_copy(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(map) => Value::typed_map(
            map.kind,
            map.entries
                .borrow()
                .iter()
                .map(|(k, v)| Ok((k.clone(), deep_copy(v, depth + 1)?)))
                .collect::<Result<_, Limit>>()?,
        ),
        other => other.clone(),
    })
}

/// mergo's `deepMerge` of one `map[string]interface{}` into another (see the module comment).
fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) -> Result<(), Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    // A snapshot of src: dst and src may be the same map.
    let entries: Vec<(Str, Value)> = src
        .entries
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, sv) in entries {
        if sv.is_nil() {
            if overwrite {
                dst.entries.borrow_mut().insert(key, Value::Nil);
            }
            continue;
        }
        let dv = dst.entries.borrow().get(&key).cloned();
        match &sv {
            Value::Map(sm) => {
                if let Some(Value::Map(dm)) = &dv
                    && !Rc::ptr_eq(dm, sm)
                {
                    merge_into(dm, sm, overwrite, depth + 1)?;
                }
                if dv.as_ref().is_some_and(|d| !is_empty(d)) {
                    continue;
                }
            }
            Value::List(_) if dv.as_ref().is_some_and(|d| !is_empty(d)) => {
                if overwrite {
                    dst.entries.borrow_mut().insert(key, sv);
                }
                continue;
            }
            _ => {}
        }
        if overwrite || dv.as_ref().is_none_or(is_empty) {
            dst.entries.borrow_mut().insert(key, sv);
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
            exec.budget.charge(src.entries.borrow().len() as u64 * 32)?;
            merge_into(dst, src, overwrite, 0)?;
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

fn dig(args: &[Value]) -> FuncResult {
    if args.len() < 3 {
        return Err(error("dig needs at least three arguments"));
    }
    let Some(Value::Map(mut map)) = args.last().cloned() else {
        return Err(error(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            args.last().map(Value::type_name).unwrap_or_default()
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
                key.type_name()
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

fn slice(args: &[Value]) -> FuncResult {
    let list = items(&args[0], "slice")?;
    let len = list.items.len();
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = args.get(1).map_or(0, super::numbers::to_int64);
    let end = args.get(2).map_or(len as i64, super::numbers::to_int64);
    if start < 0 || end < start || end as usize > len {
        return Err(error(format!(
            "runtime error: slice bounds out of range [{start}:{end}]"
        )));
    }
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
            let mut out = list.items.clone();
            out.push(args[1].clone());
            new_list(exec, out)
        });
    }
    for name in ["prepend", "mustPrepend"] {
        map.add(name, &[A, A], |exec, args| {
            let list = items(&args[0], "prepend")?;
            let mut out = Vec::with_capacity(list.items.len() + 1);
            out.push(args[1].clone());
            out.extend(list.items.iter().cloned());
            new_list(exec, out)
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
                return Ok(Value::Nil);
            }
            new_list(exec, list.items[1..].to_vec())
        });
    }
    for name in ["initial", "mustInitial"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find initial")?;
            if list.items.is_empty() {
                return Ok(Value::Nil);
            }
            new_list(exec, list.items[..list.items.len() - 1].to_vec())
        });
    }
    for name in ["reverse", "mustReverse"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find reverse")?;
            new_list(exec, list.items.iter().rev().cloned().collect())
        });
    }
    for name in ["uniq", "mustUniq"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "find uniq")?;
            let mut out: Vec<Value> = Vec::new();
            for item in &list.items {
                if !out.iter().any(|seen| deep_equal(seen, item)) {
                    out.push(item.clone());
                }
            }
            new_list(exec, out)
        });
    }
    for name in ["compact", "mustCompact"] {
        map.add(name, &[A], |exec, args| {
            let list = items(&args[0], "compact")?;
            new_list(
                exec,
                list.items
                    .iter()
                    .filter(|v| !is_empty(v))
                    .cloned()
                    .collect(),
            )
        });
    }
    for name in ["without", "mustWithout"] {
        map.add_variadic(name, &[A], A, |exec, args| {
            let list = items(&args[0], "find without")?;
            let omit = &args[1..];
            new_list(
                exec,
                list.items
                    .iter()
                    .filter(|v| !omit.iter().any(|o| deep_equal(o, v)))
                    .cloned()
                    .collect(),
            )
        });
    }
    for name in ["has", "mustHas"] {
        map.add(name, &[A, A], |_, args| {
            if args[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            let list = items(&args[1], "find has")?;
            Ok(Value::Bool(
                list.items.iter().any(|v| deep_equal(&args[0], v)),
            ))
        });
    }
    for name in ["slice", "mustSlice"] {
        map.add_variadic(name, &[A], A, |_, args| slice(&args));
    }
    map.add_variadic("concat", &[], A, |exec, args| {
        let mut out = Vec::new();
        for arg in &args {
            match arg {
                Value::List(list) => out.extend(list.items.iter().cloned()),
                Value::Nil => return Err(nil_pointer()),
                other => {
                    return Err(error(format!(
                        "Cannot concat type {} as list",
                        other.type_name()
                    )));
                }
            }
        }
        new_list(exec, out)
    });
    for name in ["chunk", "mustChunk"] {
        map.add(name, &[I, A], |exec, args| {
            let size = super::arg_int(&args, 0);
            let list = items(&args[1], "chunk")?;
            if size <= 0 {
                return Err(error("runtime error: integer divide by zero"));
            }
            let chunks: Vec<Value> = list
                .items
                .chunks(size as usize)
                .map(|c| Value::list(c.to_vec()))
                .collect();
            exec.budget.charge(list.items.len() as u64 * 32)?;
            Ok(Value::list(chunks))
        });
    }
    for name in ["sortAlpha", "mustSortAlpha"] {
        map.add(name, &[A], |exec, args| {
            let mut strings: Vec<String> = match &args[0] {
                Value::List(list) => list.items.iter().map(strval).collect::<Result<_, _>>()?,
                other => vec![strval(other)?],
            };
            strings.sort();
            exec.budget.charge(strings.len() as u64 * 32)?;
            Ok(super::string_list(strings))
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
        if let Some(map) = map_arg(&args[0]) {
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
        let found: Vec<Value> = args[1..]
            .iter()
            .filter_map(map_arg)
            .filter_map(|m| m.entries.borrow().get(key).cloned())
            .collect();
        new_list(exec, found)
    });
    map.add_variadic("pick", &[M], S, |exec, args| {
        let source = map_arg(&args[0])
            .map(|m| m.entries.borrow().clone())
            .unwrap_or_default();
        let picked: BTreeMap<Str, Value> = args[1..]
            .iter()
            .filter_map(|k| k.as_str())
            .filter_map(|k| source.get(k).map(|v| (Str::from(k), v.clone())))
            .collect();
        exec.budget.charge(picked.len() as u64 * 64)?;
        Ok(Value::map(picked))
    });
    map.add_variadic("omit", &[M], S, |exec, args| {
        let omit: Vec<&str> = args[1..].iter().filter_map(Value::as_str).collect();
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
        exec.budget.charge(kept.len() as u64 * 64)?;
        Ok(Value::map(kept))
    });
    map.add("values", &[M], |exec, args| {
        let found: Vec<Value> = map_arg(&args[0])
            .map(|m| m.entries.borrow().values().cloned().collect())
            .unwrap_or_default();
        new_list(exec, found)
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
            exec.budget.charge(args[0].footprint() * 4)?;
            Ok(deep_copy(&args[0], 0)?)
        });
    }
    map.add("deepEqual", &[A, A], |_, args| {
        Ok(Value::Bool(deep_equal(&args[0], &args[1])))
    });
}

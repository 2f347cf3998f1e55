//! Go's builtin template functions (`text/template/funcs.go`): `and`, `or` (evaluated lazily by
//! the executor), `not`, `len`, `index`, `slice`, the comparisons, `print`, `printf`, `println`,
//! `html`, `js`, `urlquery` and `call`, with Go's error texts.

use super::exec::Exec;
use super::funcs::{FuncMap, FuncResult, error};
use super::gofmt;
use super::value::{Ty, Value};

pub const NAMES: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

const R: Ty = Ty::Reflect;

pub fn builtins() -> FuncMap {
    let mut funcs = FuncMap::new();
    // `and`/`or` short-circuit in the executor; these bodies only exist for the signature.
    funcs.add_variadic("and", &[R], R, |_, args| {
        Ok(args.last().cloned().unwrap_or_default())
    });
    funcs.add_variadic("or", &[R], R, |_, args| {
        Ok(args.last().cloned().unwrap_or_default())
    });
    funcs.add("not", &[R], |_, args| Ok(Value::Bool(!args[0].truth())));
    funcs.add("len", &[R], length);
    funcs.add_variadic("index", &[R], R, index);
    funcs.add_variadic("slice", &[R], R, slice);
    funcs.add_variadic("eq", &[R], R, |exec, args| {
        eq(&args[0], &args[1..], exec.budget).map(Value::Bool)
    });
    funcs.add("ne", &[R, R], |exec, args| {
        eq(&args[0], &args[1..], exec.budget).map(|b| Value::Bool(!b))
    });
    funcs.add("lt", &[R, R], |_, args| {
        lt(&args[0], &args[1]).map(Value::Bool)
    });
    funcs.add("le", &[R, R], |exec, args| {
        Ok(Value::Bool(
            lt(&args[0], &args[1])? || eq(&args[0], &args[1..2], exec.budget)?,
        ))
    });
    funcs.add("gt", &[R, R], |exec, args| {
        let less = lt(&args[0], &args[1])?;
        let equal = !less && eq(&args[0], &args[1..2], exec.budget)?;
        Ok(Value::Bool(!less && !equal))
    });
    funcs.add("ge", &[R, R], |_, args| {
        lt(&args[0], &args[1]).map(|b| Value::Bool(!b))
    });
    funcs.add_variadic("print", &[], Ty::Any, |exec, args| {
        Ok(Value::string(gofmt::sprint(&args, exec.budget)?))
    });
    funcs.add_variadic("printf", &[Ty::String], Ty::Any, |exec, args| {
        let format = args[0].as_str().unwrap_or_default().to_owned();
        Ok(Value::string(gofmt::sprintf(
            &format,
            &args[1..],
            exec.budget,
        )?))
    });
    funcs.add_variadic("println", &[], Ty::Any, |exec, args| {
        Ok(Value::string(gofmt::sprintln(&args, exec.budget)?))
    });
    funcs.add_variadic("html", &[], Ty::Any, |exec, args| {
        escaped(exec, &args, html_escape)
    });
    funcs.add_variadic("js", &[], Ty::Any, |exec, args| {
        escaped(exec, &args, js_escape)
    });
    funcs.add_variadic("urlquery", &[], Ty::Any, |exec, args| {
        escaped(exec, &args, query_escape)
    });
    // The executor puts the callee's text first, as Go's does: `call NAME FN ARGS...`.
    funcs.add_variadic("call", &[R], R, |_, args| match args.get(1) {
        Some(Value::Nil) | None => Err(error("call of nil")),
        Some(other) => Err(error(format!(
            "non-function {} of type {}",
            args[0].as_str().unwrap_or_default(),
            other.type_name()
        ))),
    });
    funcs
}

/// An escaping builtin (`html`, `js`, `urlquery`): the arguments as `evalArgs` prints them,
/// escaped a line at a time under the budget (escapes make text up to six times longer).
fn escaped(exec: &Exec<'_>, args: &[Value], escape: fn(&str) -> String) -> FuncResult {
    let text = eval_args(exec, args)?;
    let mut out = String::new();
    let mut writer = super::budget::Text::new(&mut out, exec.budget);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        // Pieces of at most 4 KiB, cut at a character boundary.
        let mut cut = rest.len().min(4096);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        writer.put(&escape(&rest[..cut]))?;
        rest = &rest[cut..];
    }
    Ok(Value::string(out))
}

/// Go's `evalArgs`: `Sprint` of the arguments, with nil printed as `<no value>`.
fn eval_args(exec: &Exec<'_>, args: &[Value]) -> Result<String, super::budget::Limit> {
    if let [Value::Str(s)] = args {
        return Ok(s.to_string());
    }
    let shown: Vec<Value> = args
        .iter()
        .map(|arg| match arg {
            Value::Nil => Value::str("<no value>"),
            other => other.clone(),
        })
        .collect();
    gofmt::sprint(&shown, exec.budget)
}

fn length(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::Int(match &args[0] {
        Value::Str(s) => s.len() as i64,
        Value::Bytes(b) => b.len() as i64,
        Value::List(list) => list.items.len() as i64,
        Value::Map(map) => map.entries.borrow().len() as i64,
        Value::Object(object) if object.entries().is_some() => {
            object.entries().map_or(0, |e| e.len() as i64)
        }
        Value::Nil => return Err(error("len of nil pointer")),
        // Go's len dereferences a pointer before it looks at the type.
        other => {
            let name = other.type_name();
            return Err(error(format!(
                "len of type {}",
                name.strip_prefix('*').unwrap_or(&name)
            )));
        }
    }))
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, super::funcs::FuncError> {
    let x = match index {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Nil => return Err(error("cannot index slice/array with nil")),
        other => {
            return Err(error(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(error(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let mut item = args[0].clone();
    if item.is_nil() {
        return Err(error("index of untyped nil"));
    }
    for index in &args[1..] {
        item = match &item {
            Value::List(list) => {
                let x = index_arg(index, list.items.len())?;
                list.items
                    .get(x)
                    .cloned()
                    .ok_or_else(|| error(format!("index out of range: {x}")))?
            }
            Value::Str(s) => {
                let x = index_arg(index, s.len())?;
                Value::Int(i64::from(
                    *s.as_bytes()
                        .get(x)
                        .ok_or_else(|| error(format!("index out of range: {x}")))?,
                ))
            }
            Value::Bytes(bytes) => {
                let x = index_arg(index, bytes.len())?;
                Value::Int(i64::from(
                    *bytes
                        .get(x)
                        .ok_or_else(|| error(format!("index out of range: {x}")))?,
                ))
            }
            Value::Map(map) => {
                let key = match index {
                    Value::Str(key) => key.clone(),
                    Value::Nil => return Err(error("value is nil; should be of type string")),
                    other => {
                        return Err(error(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        )));
                    }
                };
                map.entries.borrow().get(&*key).cloned().unwrap_or_default()
            }
            Value::Nil => return Err(error("index of nil pointer")),
            other => {
                return Err(error(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn slice(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let budget = exec.budget;
    let item = &args[0];
    let indexes = &args[1..];
    if item.is_nil() {
        return Err(error("slice of untyped nil"));
    }
    if indexes.len() > 3 {
        return Err(error(format!("too many slice indexes: {}", indexes.len())));
    }
    let len = match item {
        Value::Str(s) => {
            if indexes.len() == 3 {
                return Err(error("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(list) => list.items.len(),
        Value::Bytes(bytes) => bytes.len(),
        other => {
            return Err(error(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(error(format!(
            "invalid slice index: {} > {}",
            idx[0], idx[1]
        )));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(error(format!(
            "invalid slice index: {} > {}",
            idx[1], idx[2]
        )));
    }
    Ok(match item {
        Value::Str(s) => match s.get(idx[0]..idx[1]) {
            Some(part) => Value::str(part),
            None => {
                Value::string(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
            }
        },
        Value::List(list) => {
            budget.charge((idx[1] - idx[0]) as u64 * 32 + 32)?;
            Value::typed_list(list.kind, list.items[idx[0]..idx[1]].to_vec())
        }
        Value::Bytes(bytes) => Value::Bytes(bytes[idx[0]..idx[1]].into()),
        _ => Value::Nil,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(value: &Value) -> Kind {
    match value {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Object(object) if object.int_value().is_some() => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

/// Go's `eq`: `a == b || a == c || ...` (the error for values that cannot be compared prints
/// them, charged to `budget`).
pub fn eq(
    a: &Value,
    others: &[Value],
    budget: &super::budget::Budget,
) -> Result<bool, super::funcs::FuncError> {
    if others.is_empty() {
        return Err(error("missing argument for comparison"));
    }
    let k1 = basic_kind(a);
    for b in others {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if !a.is_nil() && !b.is_nil() {
                return Err(error(format!(
                    "incompatible types for comparison: {} and {}",
                    a.type_name(),
                    b.type_name()
                )));
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => x == y,
                _ if k1 == Kind::Int => a.as_int() == b.as_int(),
                (Value::Nil, _) | (_, Value::Nil) => a.is_nil() && b.is_nil(),
                (Value::Object(x), Value::Object(y)) => std::rc::Rc::ptr_eq(x, y),
                // Go prints the values with `%s` and `%v`, as its message's format says.
                _ if std::mem::discriminant(a) != std::mem::discriminant(b) => {
                    return Err(error(format!(
                        "non-comparable types {}: {}, {}: {}",
                        gofmt::sprintf("%s", std::slice::from_ref(a), budget)?,
                        a.type_name(),
                        b.type_name(),
                        gofmt::to_string(b, budget)?
                    )));
                }
                _ => {
                    return Err(error(format!(
                        "non-comparable type {}: {}",
                        gofmt::sprintf("%s", std::slice::from_ref(b), budget)?,
                        b.type_name()
                    )));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, super::funcs::FuncError> {
    let k1 = basic_kind(a);
    let k2 = basic_kind(b);
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err(error("invalid type for comparison"));
    }
    if k1 != k2 {
        return Err(error(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )));
    }
    Ok(match (a, b) {
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Str(x), Value::Str(y)) => x < y,
        (Value::Bool(_), _) => return Err(error("invalid type for comparison")),
        _ => a.as_int() < b.as_int(),
    })
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c if !c.is_control() && !c.is_whitespace() || c == ' ' => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_follow_go() {
        let budget = super::super::budget::Budget::unlimited();
        assert!(eq(&Value::Int(1), &[Value::Int64(1)], &budget).unwrap());
        assert!(
            eq(
                &Value::str("a"),
                &[Value::str("b"), Value::str("a")],
                &budget
            )
            .unwrap()
        );
        assert!(!eq(&Value::Nil, &[Value::str("a")], &budget).unwrap());
        assert!(eq(&Value::Nil, &[Value::Nil], &budget).unwrap());
        assert!(eq(&Value::Float(1.0), &[Value::Int(1)], &budget).is_err());
        assert!(!eq(&Value::empty_map(), &[Value::Nil], &budget).unwrap());
        assert!(eq(&Value::empty_map(), &[Value::list(vec![])], &budget).is_err());
        assert!(lt(&Value::Int(1), &Value::Int(2)).unwrap());
        assert!(lt(&Value::Nil, &Value::Int(2)).is_err());
        assert!(lt(&Value::Bool(true), &Value::Bool(false)).is_err());
    }

    #[test]
    fn escapers_follow_go() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"
        );
        assert_eq!(
            js_escape("a'b\"<=>\n"),
            "a\\'b\\\"\\u003C\\u003D\\u003E\\u000A"
        );
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}

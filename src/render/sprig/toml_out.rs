//! Helm's `toToml`: BurntSushi/toml's encoder as Helm calls it (`toml.NewEncoder(b).Encode(v)`),
//! over template values. Keys are sorted, plain values come before tables, tables and arrays of
//! tables are headed `[a.b]` / `[[a.b]]` and indented two spaces per level below the first, nil
//! map values are skipped, a nil inside an array is an error, and an encoding error is the
//! function's output (Helm prints `err.Error()`), except the reflect panic for a nil document.

use crate::render::golang;
use crate::render::gotemplate::value::{MAX_NESTING, Value};
use crate::render::gotemplate::{Budget, Limit};

/// What `tomlTypeOfGo` says of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Table,
    ArrayOfTables,
}

const NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const NO_KEY: &str = "toml: top-level values must be Go maps or structs";

/// How the encoding ended: an encoder error is text for the template, a limit stops the render.
pub enum Failure {
    Encoder(String),
    Limit(Limit),
    /// Go's panic for `Encode(nil)`.
    NilDocument,
}

impl From<Limit> for Failure {
    fn from(limit: Limit) -> Self {
        Failure::Limit(limit)
    }
}

type R<T> = Result<T, Failure>;

/// `tomlTypeOfGo`: None for nil; arrays check every element (a nil one is an error). Each node
/// walked ticks the budget: a list that shares structure is walked in full, as Go walks it.
fn kind(value: &Value, depth: usize, budget: &Budget) -> R<Option<Kind>> {
    if depth > MAX_NESTING {
        return Err(Failure::Limit(Limit::Nesting));
    }
    budget.tick()?;
    Ok(match value {
        Value::Nil => None,
        Value::Map(_) => Some(Kind::Table),
        Value::List(list) => {
            let mut tables = !list.items.is_empty();
            for item in &list.items {
                match kind(item, depth + 1, budget)? {
                    None => return Err(Failure::Encoder(NIL_ELEMENT.to_owned())),
                    Some(Kind::Table) => {}
                    Some(_) => tables = false,
                }
            }
            Some(if tables {
                Kind::ArrayOfTables
            } else {
                Kind::Plain
            })
        }
        _ => Some(Kind::Plain),
    })
}

struct Encoder<'b> {
    out: String,
    budget: &'b Budget,
}

impl Encoder<'_> {
    fn put(&mut self, text: &str) -> R<()> {
        self.budget.charge(text.len() as u64)?;
        self.out.push_str(text);
        Ok(())
    }

    /// `newline()`: only once something has been written.
    fn newline(&mut self) -> R<()> {
        if self.out.is_empty() {
            Ok(())
        } else {
            self.put("\n")
        }
    }

    fn indent(&mut self, key: &[&str]) -> R<()> {
        for _ in 1..key.len() {
            self.put("  ")?;
        }
        Ok(())
    }

    fn key_path(&mut self, key: &[&str]) -> R<()> {
        for (i, part) in key.iter().enumerate() {
            if i > 0 {
                self.put(".")?;
            }
            self.put(&maybe_quoted(part))?;
        }
        Ok(())
    }

    /// `encode(key, rv)`.
    fn encode(&mut self, key: &[&str], value: &Value, depth: usize) -> R<()> {
        match value {
            Value::Nil => Ok(()),
            Value::Map(_) => self.table(key, value, depth),
            Value::List(_) if kind(value, depth, self.budget)? == Some(Kind::ArrayOfTables) => {
                self.array_of_tables(key, value, depth)
            }
            _ => self.key_value(key, value, false, depth),
        }
    }

    /// `writeKeyValue`: the document itself when the key is empty.
    fn key_value(&mut self, key: &[&str], value: &Value, inline: bool, depth: usize) -> R<()> {
        if let Some(last) = key.last() {
            self.indent(key)?;
            self.put(&maybe_quoted(last))?;
            self.put(" = ")?;
        }
        self.element(value, depth)?;
        if !inline && !key.is_empty() {
            self.newline()?;
        }
        Ok(())
    }

    /// `eTable`.
    fn table(&mut self, key: &[&str], value: &Value, depth: usize) -> R<()> {
        if key.len() == 1 {
            self.newline()?;
        }
        if !key.is_empty() {
            self.indent(key)?;
            self.put("[")?;
            self.key_path(key)?;
            self.put("]")?;
            self.newline()?;
        }
        self.map(key, value, false, depth)
    }

    /// `eArrayOfTables`.
    fn array_of_tables(&mut self, key: &[&str], value: &Value, depth: usize) -> R<()> {
        if key.is_empty() {
            return Err(Failure::Encoder(NO_KEY.to_owned()));
        }
        let Value::List(list) = value else {
            return Ok(());
        };
        for item in &list.items {
            if matches!(item, Value::Nil) {
                continue;
            }
            self.newline()?;
            self.indent(key)?;
            self.put("[[")?;
            self.key_path(key)?;
            self.put("]]")?;
            self.newline()?;
            self.map(key, item, false, depth + 1)?;
        }
        Ok(())
    }

    /// `eMap`: plain keys first, then tables, each group sorted; nil values skipped.
    fn map(&mut self, key: &[&str], value: &Value, inline: bool, depth: usize) -> R<()> {
        let Value::Map(map) = value else {
            return Ok(());
        };
        let entries = map.entries.borrow();
        let (mut direct, mut sub) = (Vec::new(), Vec::new());
        for (name, item) in entries.iter() {
            match kind(item, depth + 1, self.budget)? {
                Some(Kind::Table | Kind::ArrayOfTables) => sub.push((name, item)),
                _ => direct.push((name, item)),
            }
        }
        if inline {
            self.put("{")?;
        }
        let groups = [(direct, !sub.is_empty()), (sub, false)];
        for (group, trailing_comma) in groups {
            let count = group.len();
            for (i, (name, item)) in group.into_iter().enumerate() {
                if matches!(item, Value::Nil) {
                    continue;
                }
                if inline {
                    self.key_value(&[name], item, true, depth + 1)?;
                    if trailing_comma || i != count - 1 {
                        self.put(", ")?;
                    }
                } else {
                    let mut path = key.to_vec();
                    path.push(name);
                    self.encode(&path, item, depth + 1)?;
                }
            }
        }
        if inline {
            self.put("}")?;
        }
        Ok(())
    }

    /// `eElement`.
    fn element(&mut self, value: &Value, depth: usize) -> R<()> {
        if depth > MAX_NESTING {
            return Err(Failure::Limit(Limit::Nesting));
        }
        match value {
            Value::Nil => Err(Failure::NilDocument),
            Value::Bool(b) => self.put(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.put(&i.to_string()),
            Value::Float(f) => self.put(&float(*f)),
            Value::Str(s) => self.quoted(s),
            Value::Bytes(bytes) => {
                self.put("[")?;
                for (i, b) in bytes.iter().enumerate() {
                    self.put(if i > 0 { ", " } else { "" })?;
                    self.put(&b.to_string())?;
                }
                self.put("]")
            }
            Value::List(list) => {
                self.put("[")?;
                for (i, item) in list.items.iter().enumerate() {
                    self.put(if i > 0 { ", " } else { "" })?;
                    self.element(item, depth + 1)?;
                }
                self.put("]")
            }
            Value::Map(_) => self.map(&[], value, true, depth),
            // time.Time is a TOML datetime; the other objects Sprig returns are text marshalers.
            Value::Object(object) => {
                let mut text = String::new();
                object.format(&mut text);
                if object.type_name() == "time.Time" {
                    self.put(&text)
                } else {
                    self.quoted(&text)
                }
            }
        }
    }

    fn quoted(&mut self, text: &str) -> R<()> {
        self.put(&format!("\"{}\"", escape(text)))
    }
}

/// BurntSushi's `dblQuotedReplacer`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A bare key is `A-Za-z0-9_-` and not empty; anything else is quoted.
fn maybe_quoted(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        format!("\"{}\"", escape(key))
    }
}

/// `FormatFloat(f, 'g', -1, 64)` with ".0" added to plain integers; nan and inf as TOML spells them.
fn float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "+inf" }.to_owned();
    }
    let text = golang::format_float(f, false);
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}

/// The document `value` as Helm's `toToml` writes it.
pub fn to_toml(value: &Value, budget: &Budget) -> R<String> {
    let mut encoder = Encoder {
        out: String::new(),
        budget,
    };
    encoder.encode(&[], value, 0)?;
    if matches!(value, Value::Nil) {
        return Err(Failure::NilDocument);
    }
    Ok(encoder.out)
}

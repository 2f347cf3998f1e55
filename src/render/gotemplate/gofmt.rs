//! Go's `fmt` for template values: `%v` printing (what an action writes), `Sprint`, `Sprintln`
//! and `Sprintf` with Go's verbs, flags, widths, precisions, argument indexes and its error forms
//! (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`). Every byte is charged to the budget before it
//! is written, so a format such as `%999999d` repeated cannot allocate without bound.

use super::budget::{Budget, Limit, Text};
use super::value::{MAX_NESTING, Value};
use crate::render::golang;

/// Go caps widths and precisions at 1e6 (`%!(BADWIDTH)` beyond).
const MAX_WIDTH: i64 = 1_000_000;

/// `%v` of `value`, appended to `out` under its budget.
pub fn write_value(out: &mut Text<'_>, value: &Value) -> Result<(), Limit> {
    write_v(out, value, 0)
}

/// `%v` of `value` as a new string, charged to `budget` as it is written.
pub fn to_string(value: &Value, budget: &Budget) -> Result<String, Limit> {
    super::budget::text(budget, |out| write_v(out, value, 0))
}

fn write_v(out: &mut Text<'_>, value: &Value, depth: usize) -> Result<(), Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    match value {
        Value::Nil => out.put("<nil>")?,
        Value::Bool(b) => out.put(if *b { "true" } else { "false" })?,
        Value::Int(i) | Value::Int64(i) => out.put(&i.to_string())?,
        Value::Float(f) => out.put(&golang::format_float(*f, false))?,
        Value::Str(s) => out.put(s)?,
        Value::Bytes(bytes) => {
            out.put("[")?;
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.put(" ")?;
                }
                out.put(&b.to_string())?;
            }
            out.put("]")?;
        }
        Value::List(list) => {
            out.put("[")?;
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.put(" ")?;
                }
                write_v(out, item, depth + 1)?;
            }
            out.put("]")?;
        }
        Value::Map(map) => {
            out.put("map[")?;
            for (i, (key, item)) in map.entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.put(" ")?;
                }
                out.put(key)?;
                out.put(":")?;
                write_v(out, item, depth + 1)?;
            }
            out.put("]")?;
        }
        Value::Object(object) => {
            let mut text = String::new();
            object.format(&mut text);
            out.put(&text)?;
        }
    }
    Ok(())
}

/// Go's `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a
/// string.
pub fn sprint(args: &[Value], budget: &Budget) -> Result<String, Limit> {
    super::budget::text(budget, |out| {
        let mut previous_string = false;
        for (i, arg) in args.iter().enumerate() {
            let is_string = matches!(arg, Value::Str(_));
            if i > 0 && !is_string && !previous_string {
                out.put(" ")?;
            }
            write_v(out, arg, 0)?;
            previous_string = is_string;
        }
        Ok(())
    })
}

/// Go's `fmt.Sprintln`: operands with `%v`, always a space between them, and a final newline.
pub fn sprintln(args: &[Value], budget: &Budget) -> Result<String, Limit> {
    super::budget::text(budget, |out| {
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                out.put(" ")?;
            }
            write_v(out, arg, 0)?;
        }
        out.put("\n")
    })
}

#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

struct Printer<'b> {
    out: String,
    budget: &'b Budget,
}

impl Printer<'_> {
    fn put(&mut self, text: &str) -> Result<(), Limit> {
        self.budget.charge(text.len() as u64)?;
        self.out.push_str(text);
        Ok(())
    }

    fn put_char(&mut self, c: char) -> Result<(), Limit> {
        self.budget.charge(c.len_utf8() as u64)?;
        self.out.push(c);
        Ok(())
    }

    /// Writes `text` padded to the width (in characters, as Go counts them).
    fn pad(&mut self, text: &str, flags: &Flags) -> Result<(), Limit> {
        let Some(width) = flags.width else {
            return self.put(text);
        };
        let count = text.chars().count();
        if count >= width {
            return self.put(text);
        }
        let padding = width - count;
        let fill = if flags.zero && !flags.minus { '0' } else { ' ' };
        self.budget.charge(padding as u64)?;
        if flags.minus {
            self.put(text)?;
            self.out.extend(std::iter::repeat_n(' ', padding));
        } else {
            self.out.extend(std::iter::repeat_n(fill, padding));
            self.put(text)?;
        }
        Ok(())
    }

    /// Go's `badVerb`: `%!verb(type=value)`, the value printed with `%v` and the verb's flags
    /// (`%8.2f` of "ab" is `%!f(string=      ab)`).
    fn bad_verb(&mut self, verb: char, value: &Value, flags: &Flags) -> Result<(), Limit> {
        self.put("%!")?;
        self.put_char(verb)?;
        self.put("(")?;
        match value {
            Value::Nil => self.put("<nil>")?,
            other => {
                self.put(&other.type_name())?;
                self.put("=")?;
                self.value(other, 'v', flags, 0)?;
            }
        }
        self.put(")")
    }

    fn integer(
        &mut self,
        value: i64,
        verb: char,
        flags: &Flags,
        original: &Value,
    ) -> Result<(), Limit> {
        let negative = value < 0;
        let magnitude = value.unsigned_abs();
        let (mut digits, prefix) = match verb {
            'd' | 'v' => (magnitude.to_string(), ""),
            'b' => (
                format!("{magnitude:b}"),
                if flags.sharp { "0b" } else { "" },
            ),
            'o' => (format!("{magnitude:o}"), if flags.sharp { "0" } else { "" }),
            'O' => (format!("{magnitude:o}"), "0o"),
            'x' => (
                format!("{magnitude:x}"),
                if flags.sharp { "0x" } else { "" },
            ),
            'X' => (
                format!("{magnitude:X}"),
                if flags.sharp { "0X" } else { "" },
            ),
            'c' => {
                let c = u32::try_from(value)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                return self.pad(&c.to_string(), flags);
            }
            'q' => {
                let c = u32::try_from(value)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                return self.pad(&quote_rune(c), flags);
            }
            'U' => {
                let mut text = format!("U+{:04X}", magnitude);
                if flags.sharp
                    && let Some(c) = u32::try_from(value).ok().and_then(char::from_u32)
                    && !c.is_control()
                {
                    text.push_str(&format!(" '{c}'"));
                }
                return self.pad(&text, flags);
            }
            _ => return self.bad_verb(verb, original, flags),
        };
        if let Some(precision) = flags.precision {
            if precision == 0 && magnitude == 0 {
                digits.clear();
            } else if digits.len() < precision {
                self.budget.charge(precision as u64)?;
                digits = format!("{}{digits}", "0".repeat(precision - digits.len()));
            }
        }
        let sign = if negative {
            "-"
        } else if flags.plus {
            "+"
        } else if flags.space {
            " "
        } else {
            ""
        };
        let zero_pad = flags.zero && !flags.minus && flags.precision.is_none();
        if zero_pad && let Some(width) = flags.width {
            let used = sign.len() + prefix.len() + digits.len();
            if width > used {
                self.budget.charge((width - used) as u64)?;
                digits = format!("{}{digits}", "0".repeat(width - used));
            }
            return self.put(&format!("{sign}{prefix}{digits}"));
        }
        let unpadded = Flags {
            zero: false,
            ..*flags
        };
        self.pad(&format!("{sign}{prefix}{digits}"), &unpadded)
    }

    fn float(&mut self, value: f64, verb: char, flags: &Flags) -> Result<(), Limit> {
        let text = match verb {
            'v' | 'g' | 'G' => match flags.precision {
                None => golang::format_float(value, false),
                Some(precision) => format_g(value, precision.max(1), flags.sharp),
            },
            'e' | 'E' => format_e(value, flags.precision.unwrap_or(6)),
            'f' | 'F' => format_f(value, flags.precision.unwrap_or(6)),
            _ => return self.bad_verb(verb, &Value::Float(value), flags),
        };
        let text = if verb == 'E' || verb == 'G' {
            text.to_uppercase()
        } else {
            text
        };
        let special = text.contains("Inf") || text.contains("NaN") || text.contains("INF");
        let negative = text.starts_with('-');
        let unsigned = text.trim_start_matches(['-', '+']);
        let sign = if negative {
            "-"
        } else if flags.plus {
            "+"
        } else if flags.space {
            " "
        } else {
            ""
        };
        if flags.zero
            && !flags.minus
            && !special
            && let Some(width) = flags.width
        {
            let used = sign.len() + unsigned.len();
            let zeros = width.saturating_sub(used);
            self.budget.charge(zeros as u64)?;
            return self.put(&format!("{sign}{}{unsigned}", "0".repeat(zeros)));
        }
        let unpadded = Flags {
            zero: false,
            ..*flags
        };
        self.pad(&format!("{sign}{unsigned}"), &unpadded)
    }

    fn string(&mut self, text: &str, verb: char, flags: &Flags) -> Result<(), Limit> {
        let text = match flags.precision {
            Some(precision) if verb != 'x' && verb != 'X' => {
                match text.char_indices().nth(precision) {
                    Some((end, _)) => &text[..end],
                    None => text,
                }
            }
            _ => text,
        };
        match verb {
            'v' | 's' => self.pad(text, flags),
            'q' => {
                let quoted = if flags.sharp
                    && !text.contains('`')
                    && !text.contains(|c: char| c.is_control() && c != '\t')
                {
                    format!("`{text}`")
                } else if flags.plus {
                    golang::quote(text)
                        .chars()
                        .flat_map(|c| {
                            if c.is_ascii() {
                                vec![c]
                            } else {
                                format!("\\u{:04x}", c as u32).chars().collect()
                            }
                        })
                        .collect()
                } else {
                    golang::quote(text)
                };
                self.pad(&quoted, flags)
            }
            'x' | 'X' => {
                let bytes = match flags.precision {
                    Some(p) => &text.as_bytes()[..p.min(text.len())],
                    None => text.as_bytes(),
                };
                let hex = hex_bytes(bytes, verb == 'X', flags);
                self.pad(&hex, flags)
            }
            _ => self.bad_verb(verb, &Value::str(text), flags),
        }
    }

    fn value(
        &mut self,
        value: &Value,
        verb: char,
        flags: &Flags,
        depth: usize,
    ) -> Result<(), Limit> {
        if depth > MAX_NESTING {
            return Err(Limit::Nesting);
        }
        if verb == 'T' {
            return self.pad(&value.type_name(), flags);
        }
        if verb == 'v' && flags.sharp && !matches!(value, Value::Object(_)) {
            return self.go_syntax(value, flags, depth);
        }
        match value {
            // A nil inside a collection prints as `<nil>` whatever the verb (Go's printValue).
            // Inside a collection Go writes it unpadded; alone, `%v` pads it.
            Value::Nil => match verb {
                _ if depth > 0 => self.put("<nil>"),
                'v' => self.pad("<nil>", flags),
                _ => self.bad_verb(verb, value, flags),
            },
            Value::Bool(b) => match verb {
                'v' | 't' => self.pad(if *b { "true" } else { "false" }, flags),
                _ => self.bad_verb(verb, value, flags),
            },
            Value::Int(i) | Value::Int64(i) => self.integer(*i, verb, flags, value),
            Value::Float(f) => self.float(*f, verb, flags),
            Value::Str(s) => self.string(s, verb, flags),
            Value::Bytes(bytes) => match verb {
                's' | 'q' | 'x' | 'X' => self.string(&String::from_utf8_lossy(bytes), verb, flags),
                _ => {
                    self.put("[")?;
                    for (i, b) in bytes.iter().enumerate() {
                        if i > 0 {
                            self.put(" ")?;
                        }
                        self.integer(i64::from(*b), verb, flags, &Value::Int(i64::from(*b)))?;
                    }
                    self.put("]")
                }
            },
            Value::List(list) => {
                self.put("[")?;
                for (i, item) in list.items.iter().enumerate() {
                    if i > 0 {
                        self.put(" ")?;
                    }
                    self.value(item, verb, flags, depth + 1)?;
                }
                self.put("]")
            }
            Value::Map(map) => {
                self.put("map[")?;
                for (i, (key, item)) in map.entries.borrow().iter().enumerate() {
                    if i > 0 {
                        self.put(" ")?;
                    }
                    self.string(key, verb, flags)?;
                    self.put(":")?;
                    self.value(item, verb, flags, depth + 1)?;
                }
                self.put("]")
            }
            // Go prints a Stringer through String() only for the string verbs; a named integer
            // (time.Month) is its number for the others.
            Value::Object(object) => match object.int_value() {
                Some(n) if !matches!(verb, 'v' | 's' | 'x' | 'X' | 'q') => {
                    self.integer(n, verb, flags, value)
                }
                _ => {
                    let mut text = String::new();
                    object.format(&mut text);
                    self.string(&text, if verb == 'v' { 's' } else { verb }, flags)
                }
            },
        }
    }
}

impl Printer<'_> {
    /// `%#v`: the value as Go source (`[]interface {}{1, "a", interface {}(nil)}`).
    fn go_syntax(&mut self, value: &Value, flags: &Flags, depth: usize) -> Result<(), Limit> {
        if depth > MAX_NESTING {
            return Err(Limit::Nesting);
        }
        let plain = Flags {
            sharp: false,
            ..*flags
        };
        match value {
            Value::Nil if depth == 0 => self.pad("<nil>", flags),
            Value::Nil => self.put("interface {}(nil)"),
            Value::Str(s) => self.string(s, 'q', &plain),
            Value::Float(f) => self.pad(&crate::render::golang::format_float(*f, false), flags),
            Value::Bytes(bytes) => {
                self.put("[]byte{")?;
                for (i, b) in bytes.iter().enumerate() {
                    self.put(if i > 0 { ", " } else { "" })?;
                    self.put(&format!("{b:#x}"))?;
                }
                self.put("}")
            }
            Value::List(list) => {
                self.put(&value.type_name())?;
                self.put("{")?;
                for (i, item) in list.items.iter().enumerate() {
                    self.put(if i > 0 { ", " } else { "" })?;
                    self.go_syntax(item, flags, depth + 1)?;
                }
                self.put("}")
            }
            Value::Map(map) => {
                self.put(&value.type_name())?;
                self.put("{")?;
                for (i, (key, item)) in map.entries.borrow().iter().enumerate() {
                    self.put(if i > 0 { ", " } else { "" })?;
                    self.string(key, 'q', &plain)?;
                    self.put(":")?;
                    self.go_syntax(item, flags, depth + 1)?;
                }
                self.put("}")
            }
            other => self.value(other, 'v', &plain, depth),
        }
    }
}

fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_owned(),
        '"' => "'\"'".to_owned(),
        _ => {
            let quoted = golang::quote(&c.to_string());
            format!("'{}'", &quoted[1..quoted.len() - 1])
        }
    }
}

fn hex_bytes(bytes: &[u8], upper: bool, flags: &Flags) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for (i, b) in bytes.iter().enumerate() {
        if flags.space && i > 0 {
            out.push(' ');
        }
        if flags.sharp && (flags.space || i == 0) {
            out.push_str(if upper { "0X" } else { "0x" });
        }
        if upper {
            out.push_str(&format!("{b:02X}"));
        } else {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// `%e` with `precision` digits after the point: `1.500000e+03`.
pub fn format_e(value: f64, precision: usize) -> String {
    if !value.is_finite() {
        return golang::format_float(value, false);
    }
    let text = format!("{value:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// `%f` with `precision` digits after the point.
pub fn format_f(value: f64, precision: usize) -> String {
    if !value.is_finite() {
        return golang::format_float(value, false);
    }
    format!("{value:.precision$}")
}

/// `%g` with `precision` significant digits: `%e` when the exponent is below -4 or at least the
/// precision, `%f` otherwise; trailing zeros removed unless `#`.
pub fn format_g(value: f64, precision: usize, sharp: bool) -> String {
    if !value.is_finite() {
        return golang::format_float(value, false);
    }
    if value == 0.0 {
        return if sharp {
            format!("{:.*}", precision.saturating_sub(1), 0.0)
        } else {
            "0".to_owned()
        };
    }
    let rounded = format!("{value:.*e}", precision - 1);
    let (mantissa, exponent) = rounded.split_once('e').unwrap_or((&rounded, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |text: &str| -> String {
        if sharp || !text.contains('.') {
            text.to_owned()
        } else {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
    };
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.abs())
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        trim(&format!("{value:.decimals$}"))
    }
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value], budget: &Budget) -> Result<String, Limit> {
    let mut printer = Printer {
        out: String::with_capacity(format.len()),
        budget,
    };
    let mut arg_index = 0usize;
    let mut reordered = false;
    let bytes = format.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let next = format[i..].find('%').map_or(format.len(), |p| i + p);
        if next > i {
            printer.put(&format[i..next])?;
        }
        i = next;
        if i >= bytes.len() {
            break;
        }
        i += 1; // the '%'
        let mut flags = Flags::default();
        while i < bytes.len() {
            match bytes[i] {
                b'#' => flags.sharp = true,
                b'0' => flags.zero = true,
                b'+' => flags.plus = true,
                b'-' => flags.minus = true,
                b' ' => flags.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut bad_index = false;
        // An argument index before the width, the precision or the verb: %[2]*d or %[2]d.
        let take_index = |i: &mut usize, arg_index: &mut usize, reordered: &mut bool| -> bool {
            if *i < bytes.len() && bytes[*i] == b'[' {
                *reordered = true;
                match format[*i..].find(']') {
                    Some(close) => {
                        let number = &format[*i + 1..*i + close];
                        *i += close + 1;
                        match number.parse::<usize>() {
                            Ok(n) if n >= 1 && n <= args.len() => *arg_index = n - 1,
                            _ => return true,
                        }
                    }
                    None => {
                        *i = bytes.len();
                        return true;
                    }
                }
            }
            false
        };
        bad_index |= take_index(&mut i, &mut arg_index, &mut reordered);
        // Width.
        let mut bad_width = false;
        if i < bytes.len() && bytes[i] == b'*' {
            i += 1;
            match args.get(arg_index).and_then(Value::as_int) {
                Some(w) if w.abs() <= MAX_WIDTH => {
                    if w < 0 {
                        flags.minus = true;
                    }
                    flags.width = Some(w.unsigned_abs() as usize);
                }
                _ => bad_width = true,
            }
            arg_index += 1;
            bad_index |= take_index(&mut i, &mut arg_index, &mut reordered);
        } else {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                match format[start..i].parse::<i64>() {
                    Ok(w) if w <= MAX_WIDTH => flags.width = Some(w as usize),
                    _ => bad_width = true,
                }
            }
        }
        // Precision.
        let mut bad_precision = false;
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            bad_index |= take_index(&mut i, &mut arg_index, &mut reordered);
            if i < bytes.len() && bytes[i] == b'*' {
                i += 1;
                match args.get(arg_index).and_then(Value::as_int) {
                    Some(p) if (0..=MAX_WIDTH).contains(&p) => flags.precision = Some(p as usize),
                    _ => bad_precision = true,
                }
                arg_index += 1;
                bad_index |= take_index(&mut i, &mut arg_index, &mut reordered);
            } else {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                match format[start..i].parse::<i64>() {
                    Ok(p) if p <= MAX_WIDTH => flags.precision = Some(p as usize),
                    Ok(_) => bad_precision = true,
                    Err(_) => flags.precision = Some(0),
                }
            }
        }
        if !bad_index {
            bad_index = take_index(&mut i, &mut arg_index, &mut reordered);
        }
        if i >= bytes.len() {
            printer.put("%!(NOVERB)")?;
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('%');
        i += verb.len_utf8();
        if bad_width {
            printer.put("%!(BADWIDTH)")?;
        }
        if bad_precision {
            printer.put("%!(BADPREC)")?;
        }
        if verb == '%' {
            printer.put("%")?;
            continue;
        }
        if bad_index {
            printer.put("%!")?;
            printer.put_char(verb)?;
            printer.put("(BADINDEX)")?;
            continue;
        }
        let Some(arg) = args.get(arg_index) else {
            printer.put("%!")?;
            printer.put_char(verb)?;
            printer.put("(MISSING)")?;
            continue;
        };
        arg_index += 1;
        if flags.minus {
            flags.zero = false;
        }
        printer.value(arg, verb, &flags, 0)?;
    }
    if !reordered && arg_index < args.len() {
        printer.put("%!(EXTRA ")?;
        for (n, arg) in args[arg_index..].iter().enumerate() {
            if n > 0 {
                printer.put(", ")?;
            }
            match arg {
                Value::Nil => printer.put("<nil>")?,
                other => {
                    printer.put(&other.type_name())?;
                    printer.put("=")?;
                    let budget = printer.budget;
                    write_v(&mut Text::new(&mut printer.out, budget), other, 0)?;
                }
            }
        }
        printer.put(")")?;
    }
    Ok(printer.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn f(format: &str, args: &[Value]) -> String {
        sprintf(format, args, &Budget::unlimited()).unwrap()
    }

    #[test]
    fn verbs_follow_go() {
        assert_eq!(
            f(
                "%s-%d-%v",
                &[Value::str("a"), Value::Int(5), Value::Bool(true)]
            ),
            "a-5-true"
        );
        assert_eq!(
            f(
                "%05d|%-4d|%x|%X|%o|%b",
                &[
                    Value::Int(42),
                    Value::Int(7),
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5)
                ]
            ),
            "00042|7   |ff|FF|10|101"
        );
        assert_eq!(f("%q", &[Value::str("a\"b")]), r#""a\"b""#);
        assert_eq!(
            f(
                "%.2f %e %g",
                &[
                    Value::Float(2.71111),
                    Value::Float(1500.0),
                    Value::Float(1e6)
                ]
            ),
            "2.71 1.500000e+03 1e+06"
        );
        assert_eq!(
            f(
                "%5.1f|%-6s|%6s",
                &[Value::Float(2.25), Value::str("ab"), Value::str("ab")]
            ),
            "  2.2|ab    |    ab"
        );
        assert_eq!(f("%c%c", &[Value::Int(72), Value::Int(105)]), "Hi");
        assert_eq!(f("%x", &[Value::str("hi")]), "6869");
        assert_eq!(
            f("%T %T", &[Value::Float(1.0), Value::list(vec![])]),
            "float64 []interface {}"
        );
        assert_eq!(
            f(
                "%v",
                &[Value::map(BTreeMap::from([
                    ("b".into(), Value::Int(2)),
                    ("a".into(), Value::Nil)
                ]))]
            ),
            "map[a:<nil> b:2]"
        );
        assert_eq!(
            f("%d", &[Value::list(vec![Value::Int(1), Value::Int(2)])]),
            "[1 2]"
        );
        assert_eq!(f("%[2]s %[1]s", &[Value::str("a"), Value::str("b")]), "b a");
        assert_eq!(f("%*d", &[Value::Int(4), Value::Int(7)]), "   7");
        assert_eq!(f("100%%", &[]), "100%");
    }

    #[test]
    fn errors_follow_go() {
        assert_eq!(f("%d", &[Value::str("x")]), "%!d(string=x)");
        assert_eq!(f("%d", &[Value::Float(1.5)]), "%!d(float64=1.5)");
        assert_eq!(f("%s", &[Value::Int(1)]), "%!s(int=1)");
        assert_eq!(f("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(f("%s %s", &[Value::str("a")]), "a %!s(MISSING)");
        assert_eq!(
            f("%s", &[Value::str("a"), Value::Int(2)]),
            "a%!(EXTRA int=2)"
        );
        assert_eq!(f("%", &[]), "%!(NOVERB)");
        assert_eq!(f("%1000001d", &[Value::Int(1)]), "%!(BADWIDTH)1");
    }

    #[test]
    fn sprint_spaces_only_between_non_strings() {
        let budget = Budget::unlimited();
        assert_eq!(
            sprint(
                &[Value::Int(1), Value::Int(2), Value::str("a"), Value::Int(3)],
                &budget
            )
            .unwrap(),
            "1 2a3"
        );
        assert_eq!(
            sprintln(&[Value::str("a"), Value::Int(1)], &budget).unwrap(),
            "a 1\n"
        );
    }

    #[test]
    fn width_is_charged_before_padding() {
        let budget = Budget::new(super::super::budget::Limits {
            max_bytes: 1000,
            timeout: std::time::Duration::from_secs(5),
        });
        let huge = "%999999d".repeat(3);
        assert_eq!(
            sprintf(
                &huge,
                &[Value::Int(1), Value::Int(1), Value::Int(1)],
                &budget
            ),
            Err(Limit::Output(1000))
        );
    }
}

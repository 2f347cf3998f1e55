//! Go's `encoding/json` in its error messages: the syntax error its scanner reports for a
//! document that does not parse (`invalid character 'b' looking for beginning of object key
//! string`, `unexpected end of JSON input`), and the type error of unmarshaling one kind of value
//! into another (`json: cannot unmarshal array into Go value of type map[string]interface {}`).
//! Parsing itself is serde_json's; these only word its refusals as Go does.

/// Go's `quoteChar`: how the scanner shows the byte it choked on.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_owned(),
        '"' => "'\"'".to_owned(),
        c => {
            let quoted = super::golang::quote(&c.to_string());
            format!("'{}'", &quoted[1..quoted.len() - 1])
        }
    }
}

/// The scanner's states (Go's `scanner` step functions), named for what they expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    BeginValue,
    /// Right after `[`: a value or the end of an empty array.
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    Zero,
    Digits,
    Dot,
    DotDigits,
    E,
    ESign,
    EDigits,
    Literal(&'static str, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Object { key: bool },
    Array,
}

/// Go's syntax error for `text`, or `None` when Go's scanner accepts it.
pub fn syntax_error(text: &str) -> Option<String> {
    let mut stack: Vec<Container> = Vec::new();
    let mut state = State::BeginValue;
    // Go's scanner steps bytes: a multi-byte character is named by its first byte, as Latin-1.
    let invalid = |c: char, context: &str| {
        let byte = char::from(c.to_string().as_bytes()[0]);
        Some(format!("invalid character {} {context}", quote_char(byte)))
    };
    // Go's scanner ends the input by stepping a space (`eof`): "-" is "invalid character ' ' in
    // numeric literal", not "unexpected end".
    for c in text.chars().chain(std::iter::once(' ')) {
        let space = matches!(c, ' ' | '\t' | '\r' | '\n');
        loop {
            match state {
                State::BeginValueOrEmpty => {
                    if space {
                        break;
                    }
                    if c == ']' {
                        stack.pop();
                        state = State::EndValue;
                        break;
                    }
                    state = State::BeginValue;
                }
                State::BeginValue | State::BeginStringOrEmpty | State::BeginString => {
                    if space {
                        break;
                    }
                    if state == State::BeginStringOrEmpty && c == '}' {
                        stack.pop();
                        state = State::EndValue;
                        break;
                    }
                    if matches!(state, State::BeginStringOrEmpty | State::BeginString) {
                        if c == '"' {
                            state = State::InString;
                            break;
                        }
                        return invalid(c, "looking for beginning of object key string");
                    }
                    state = match c {
                        '{' => {
                            stack.push(Container::Object { key: true });
                            State::BeginStringOrEmpty
                        }
                        '[' => {
                            stack.push(Container::Array);
                            State::BeginValueOrEmpty
                        }
                        '"' => State::InString,
                        '-' => State::Neg,
                        '0' => State::Zero,
                        '1'..='9' => State::Digits,
                        't' => State::Literal("true", 1),
                        'f' => State::Literal("false", 1),
                        'n' => State::Literal("null", 1),
                        _ => return invalid(c, "looking for beginning of value"),
                    };
                    break;
                }
                State::InString => {
                    match c {
                        '"' => state = State::EndValue,
                        '\\' => state = State::InStringEsc,
                        c if (c as u32) < 0x20 => return invalid(c, "in string literal"),
                        _ => {}
                    }
                    break;
                }
                State::InStringEsc => {
                    state = match c {
                        'b' | 'f' | 'n' | 'r' | 't' | '\\' | '/' | '"' => State::InString,
                        'u' => State::InStringEscU(0),
                        _ => return invalid(c, "in string escape code"),
                    };
                    break;
                }
                State::InStringEscU(n) => {
                    if !c.is_ascii_hexdigit() {
                        return invalid(c, "in \\u hexadecimal character escape");
                    }
                    state = if n == 3 {
                        State::InString
                    } else {
                        State::InStringEscU(n + 1)
                    };
                    break;
                }
                State::Neg => {
                    state = match c {
                        '0' => State::Zero,
                        '1'..='9' => State::Digits,
                        _ => return invalid(c, "in numeric literal"),
                    };
                    break;
                }
                State::Zero | State::Digits => {
                    if state == State::Digits && c.is_ascii_digit() {
                        break;
                    }
                    match c {
                        '.' => {
                            state = State::Dot;
                            break;
                        }
                        'e' | 'E' => {
                            state = State::E;
                            break;
                        }
                        _ => state = State::EndValue,
                    }
                }
                State::Dot => {
                    if !c.is_ascii_digit() {
                        return invalid(c, "after decimal point in numeric literal");
                    }
                    state = State::DotDigits;
                    break;
                }
                State::DotDigits => {
                    if c.is_ascii_digit() {
                        break;
                    }
                    if matches!(c, 'e' | 'E') {
                        state = State::E;
                        break;
                    }
                    state = State::EndValue;
                }
                State::E | State::ESign => {
                    if state == State::E && matches!(c, '+' | '-') {
                        state = State::ESign;
                        break;
                    }
                    if !c.is_ascii_digit() {
                        return invalid(c, "in exponent of numeric literal");
                    }
                    state = State::EDigits;
                    break;
                }
                State::EDigits => {
                    if c.is_ascii_digit() {
                        break;
                    }
                    state = State::EndValue;
                }
                State::Literal(word, at) => {
                    let expected = word[at..].chars().next().unwrap_or(' ');
                    if c != expected {
                        return invalid(
                            c,
                            &format!("in literal {word} (expecting {})", quote_char(expected)),
                        );
                    }
                    state = if at + 1 == word.len() {
                        State::EndValue
                    } else {
                        State::Literal(word, at + 1)
                    };
                    break;
                }
                State::EndValue => match stack.last_mut() {
                    None => {
                        state = State::EndTop;
                        continue;
                    }
                    Some(Container::Object { key }) => {
                        if space {
                            break;
                        }
                        if *key {
                            if c == ':' {
                                *key = false;
                                state = State::BeginValue;
                                break;
                            }
                            return invalid(c, "after object key");
                        }
                        match c {
                            ',' => {
                                *key = true;
                                state = State::BeginString;
                            }
                            '}' => {
                                stack.pop();
                                state = State::EndValue;
                            }
                            _ => return invalid(c, "after object key:value pair"),
                        }
                        break;
                    }
                    Some(Container::Array) => {
                        if space {
                            break;
                        }
                        match c {
                            ',' => state = State::BeginValue,
                            ']' => {
                                stack.pop();
                                state = State::EndValue;
                            }
                            _ => return invalid(c, "after array element"),
                        }
                        break;
                    }
                },
                State::EndTop => {
                    if space {
                        break;
                    }
                    return invalid(c, "after top-level value");
                }
            }
        }
    }
    let complete = matches!(
        state,
        State::EndTop
            | State::EndValue
            | State::Zero
            | State::Digits
            | State::DotDigits
            | State::EDigits
    ) && stack.is_empty();
    if complete {
        None
    } else {
        Some("unexpected end of JSON input".to_owned())
    }
}

/// What Go calls the kind of a JSON value in its unmarshal errors.
pub fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `json: cannot unmarshal <kind> into Go value of type <go type>`.
pub fn type_error(value: &serde_json::Value, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go value of type {go_type}",
        kind(value)
    )
}

/// `json.Unmarshal` of `text` into a value of any JSON kind: the value, or Go's message.
pub fn parse(text: &str) -> Result<serde_json::Value, String> {
    if let Some(message) = syntax_error(text) {
        return Err(message);
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_read_as_go_writes_them() {
        for (text, message) in [
            ("", "unexpected end of JSON input"),
            (
                "{bad",
                "invalid character 'b' looking for beginning of object key string",
            ),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\": 1 2}",
                "invalid character '2' after object key:value pair",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            (
                "[1,]",
                "invalid character ']' looking for beginning of value",
            ),
            // Go ends the input by stepping a space (checked against Helm in the function table).
            (
                "tru",
                "invalid character ' ' in literal true (expecting 'e')",
            ),
            ("[1", "unexpected end of JSON input"),
            (
                "trux",
                "invalid character 'x' in literal true (expecting 'e')",
            ),
            (
                "1.x",
                "invalid character 'x' after decimal point in numeric literal",
            ),
            ("1e", "invalid character ' ' in exponent of numeric literal"),
            ("-", "invalid character ' ' in numeric literal"),
            ("\"a\\q\"", "invalid character 'q' in string escape code"),
            ("{} x", "invalid character 'x' after top-level value"),
            (
                "'a'",
                "invalid character '\\'' looking for beginning of value",
            ),
            ("\"a\nb\"", "invalid character '\\n' in string literal"),
        ] {
            assert_eq!(syntax_error(text).as_deref(), Some(message), "{text:?}");
        }
        for text in [
            "{}",
            "[]",
            " {\"a\": [1, -2.5e+3, true, null, \"x\\u00e9\"]} ",
            "0",
            "12",
        ] {
            assert_eq!(syntax_error(text), None, "{text:?}");
        }
    }
}

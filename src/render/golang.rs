//! Go's text conventions that templates and Helm output depend on: `%q` quoting, shortest float
//! formatting, and `encoding/json`'s HTML-safe escaping.

/// Whether Go's `strconv.IsPrint` would print `c` as is.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'))
}

/// `strconv.Quote`: what `%q` and Helm's `quote` produce.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` (kept with the YAML reader, which prints float keys).
pub use crate::pack::yaml::format_float;

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 so JSON is safe inside HTML.
pub fn html_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `unicode.IsSpace`.
fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0b}'
            | '\u{0c}'
            | '\r'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Go's `strings.TrimSpace`.
pub fn trim_space(text: &str) -> &str {
    text.trim_matches(is_go_space)
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
pub fn trim_left_space(text: &str) -> &str {
    text.trim_start_matches(is_go_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("line\nnext\ttab"), r#""line\nnext\ttab""#);
        assert_eq!(quote("\u{1}"), r#""\x01""#);
        assert_eq!(quote("héllo ✓"), "\"héllo ✓\"");
        assert_eq!(quote("\u{2028}"), r#""\u2028""#);
    }

    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_float(1.5, false), "1.5");
        assert_eq!(format_float(1e6, false), "1e+06");
        assert_eq!(format_float(123456.0, false), "123456");
        assert_eq!(format_float(0.0001, false), "0.0001");
        assert_eq!(format_float(0.00001, false), "1e-05");
        assert_eq!(format_float(1e6, true), "1000000");
        assert_eq!(format_float(2.0, true), "2");
    }

    #[test]
    fn json_is_html_safe() {
        assert_eq!(
            html_safe_json(r#"{"a":"<b>&"}"#),
            r#"{"a":"\u003cb\u003e\u0026"}"#
        );
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, `\r` and `\n` skipped anywhere,
/// errors as `illegal base64 data at input byte N` at the byte Go reports.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn value(byte: u8) -> Option<u8> {
        match byte {
            b'A'..=b'Z' => Some(byte - b'A'),
            b'a'..=b'z' => Some(byte - b'a' + 26),
            b'0'..=b'9' => Some(byte - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let corrupt = |at: usize| format!("illegal base64 data at input byte {at}");
    let src = text.as_bytes();
    let newline = |b: u8| b == b'\n' || b == b'\r';
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut quantum = [0u8; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing = None;
        while j < 4 {
            if si == src.len() {
                match j {
                    0 => return Ok(out),
                    _ => return Err(corrupt(si - j)),
                }
            }
            let byte = src[si];
            si += 1;
            if let Some(v) = value(byte) {
                quantum[j] = v;
                j += 1;
                continue;
            }
            if newline(byte) {
                continue;
            }
            if byte != b'=' {
                return Err(corrupt(si - 1));
            }
            // Padding: the end of the data.
            match j {
                0 | 1 => return Err(corrupt(si - 1)),
                2 => {
                    while si < src.len() && newline(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(corrupt(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(corrupt(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && newline(src[si]) {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(si);
            }
            len = j;
            break;
        }
        let bits = u32::from(quantum[0]) << 18
            | u32::from(quantum[1]) << 12
            | u32::from(quantum[2]) << 6
            | u32::from(quantum[3]);
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if let Some(at) = trailing {
            return Err(corrupt(at));
        }
        if len < 4 {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod base64_tests {
    use super::base64_decode;

    #[test]
    fn decodes_and_refuses_as_go() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("").unwrap(), b"");
        for (text, at) in [
            ("!!!", 0),
            ("aGVsbG8", 4),
            ("aGVsbG8=x", 8),
            ("a===", 1),
            ("aG=", 3),
        ] {
            assert_eq!(
                base64_decode(text).unwrap_err(),
                format!("illegal base64 data at input byte {at}"),
                "{text}"
            );
        }
    }
}

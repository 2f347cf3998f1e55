//! Sprig's case conversions, as huandu/xstrings 1.5 makes them: `camelcase` upper-cases the
//! first letter of each word (words end at `_`, `-` and spaces; a run of capitals after a capital
//! is lowered), `snakecase` and `kebabcase` split words at case changes, runs of capitals and
//! numbers, and join them lower-cased with `_` or `-`.

/// `_`, `-` and white space separate words.
fn is_connector(c: char) -> bool {
    c == '_' || c == '-' || c.is_whitespace()
}

/// xstrings' `isAlphabet`: a letter, but not a CJK ideograph (those stay inside "other" words).
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic()
        && !matches!(c as u32, 0x4E00..=0x9FCC | 0x3400..=0x4D85 | 0x2_0000..=0x2_B81D)
}

/// Go's `unicode.ToUpper`/`ToLower` map one rune to one rune.
pub fn upper_rune(c: char) -> char {
    let mut mapped = c.to_uppercase();
    match (mapped.next(), mapped.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

pub fn lower_rune(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut mapped = c.to_lowercase();
    match (mapped.next(), mapped.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// xstrings' `ToCamelCase`.
pub fn camel_case(text: &str) -> String {
    let mut chars = text.chars().peekable();
    let mut out = String::with_capacity(text.len());
    let mut first_upper = false;
    let mut r0 = None;
    // Leading connectors stay.
    for c in chars.by_ref() {
        if !is_connector(c) {
            first_upper = c.is_uppercase();
            r0 = Some(upper_rune(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        // Only connectors: xstrings writes the last one twice.
        if let Some(last) = text.chars().last() {
            out.push(last);
        }
        return out;
    };
    for next in chars {
        let r1 = r0;
        r0 = next;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = r0.is_uppercase();
            r0 = upper_rune(r0);
        } else {
            if first_upper {
                if r0.is_uppercase() {
                    r0 = lower_rune(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// Go's `unicode.IsPunct` (the P categories).
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
        || (!c.is_ascii()
            && !c.is_alphanumeric()
            && !c.is_whitespace()
            && !c.is_control()
            && {
                // Outside ASCII, general punctuation blocks.
                matches!(c as u32, 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003 | 0x300C..=0x3011 | 0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF)
            })
}

/// xstrings' `nextWord`: the kind of the word at the start of `text`, and its length in bytes.
fn next_word(text: &str) -> (Word, usize) {
    let mut chars = text.char_indices().peekable();
    let Some((_, first)) = chars.next() else {
        return (Word::Other, 0);
    };
    let end_of = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                  keep: &dyn Fn(char) -> bool| {
        while let Some(&(_, c)) = chars.peek() {
            if !keep(c) {
                break;
            }
            chars.next();
        }
        chars.peek().map_or(text.len(), |&(i, _)| i)
    };
    if is_connector(first) {
        return (Word::Connector, end_of(&mut chars, &is_connector));
    }
    if is_punct(first) {
        return (Word::Punct, end_of(&mut chars, &is_punct));
    }
    if first.is_uppercase() {
        let Some(&(_, second)) = chars.peek() else {
            return (Word::Upper, text.len());
        };
        if second.is_uppercase() {
            // A run of capitals; before a lower-case letter its last capital starts the next
            // word ("HTTPStatus": "HTTP", "Status").
            let mut last_start = 0;
            while let Some(&(i, c)) = chars.peek() {
                if !c.is_uppercase() {
                    break;
                }
                last_start = i;
                chars.next();
            }
            return match chars.peek() {
                Some(&(_, c)) if is_alphabet(c) => (Word::Upper, last_start),
                Some(&(i, _)) => (Word::Upper, i),
                None => (Word::Upper, text.len()),
            };
        }
        if is_alphabet(second) {
            chars.next();
            let end = end_of(&mut chars, &|c| is_alphabet(c) && !c.is_uppercase());
            return (Word::Upper, end);
        }
        return (Word::Upper, first.len_utf8());
    }
    if is_alphabet(first) {
        return (
            Word::Alphabet,
            end_of(&mut chars, &|c| is_alphabet(c) && !c.is_uppercase()),
        );
    }
    if first.is_numeric() {
        return (Word::Number, end_of(&mut chars, &|c| c.is_numeric()));
    }
    (
        Word::Other,
        end_of(&mut chars, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        }),
    )
}

/// xstrings' `toLower`: capitals and connectors of capital and connector words are rewritten.
fn write_lower(out: &mut String, word: Word, text: &str, connector: char) {
    if word != Word::Upper && word != Word::Connector {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(lower_rune(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (`snakecase` with `_`, `kebabcase` with `-`).
pub fn lower_case_words(text: &str, connector: char) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let split = |rest: &str| -> (Word, String, String) {
        let (word, len) = next_word(rest);
        (word, rest[..len].to_owned(), rest[len..].to_owned())
    };
    if text.is_empty() {
        return out;
    }
    let (mut kind, mut word, mut remaining) = split(text);
    while !remaining.is_empty() {
        if kind != Word::Connector {
            write_lower(&mut out, kind, &word, connector);
        }
        let previous = kind;
        let last = word.clone();
        (kind, word, remaining) = split(&remaining);
        match previous {
            Word::Number => {
                while kind == Word::Alphabet || kind == Word::Number {
                    write_lower(&mut out, kind, &word, connector);
                    (kind, word, remaining) = split(&remaining);
                }
                if kind != Word::Punct && kind != Word::Connector && !word.is_empty() {
                    out.push(connector);
                }
            }
            Word::Connector => write_lower(&mut out, previous, &last, connector),
            Word::Punct => {}
            _ => {
                if kind != Word::Number {
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let number = word.clone();
                (kind, word, remaining) = split(&remaining);
                if kind != Word::Alphabet {
                    // A number ends the word before it ("Bld4Floor": "bld4_floor").
                    write_lower(&mut out, Word::Number, &number, connector);
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                // Lower-case letters after a number: the number starts a word ("HTTP2xx":
                // "http_2xx").
                out.push(connector);
                write_lower(&mut out, Word::Number, &number, connector);
                while kind == Word::Alphabet || kind == Word::Number {
                    write_lower(&mut out, kind, &word, connector);
                    (kind, word, remaining) = split(&remaining);
                }
                if kind != Word::Connector && kind != Word::Punct && !word.is_empty() {
                    out.push(connector);
                }
            }
        }
    }
    write_lower(&mut out, kind, &word, connector);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words and what Helm's engine (Sprig 3 on xstrings 1.5) made of them.
    const SAMPLES: &[(&str, &str, &str)] = &[
        ("FirstName", "FirstName", "first_name"),
        ("HTTPServer", "Httpserver", "http_server"),
        ("NoHTTPS", "NoHTTPS", "no_https"),
        ("GO_PATH", "GoPath", "go_path"),
        ("GO PATH", "GoPath", "go_path"),
        ("GO-PATH", "GoPath", "go_path"),
        ("a1B2c3", "A1B2c3", "a1_b_2c3"),
        ("a1b2", "A1b2", "a_1b2"),
        ("ABC123def", "Abc123def", "abc_123def"),
        ("abc_DEF-ghi jkl", "AbcDefGhiJkl", "abc_def_ghi_jkl"),
        ("_leading__double_", "_Leading_Double_", "_leading__double_"),
        ("with space", "WithSpace", "with_space"),
        ("x", "X", "x"),
        ("", "", ""),
        ("__", "___", "__"),
        ("a__b", "A_B", "a__b"),
        ("_a", "_A", "_a"),
        ("ab_", "Ab_", "ab_"),
        ("helloWorld", "HelloWorld", "hello_world"),
        ("HELLO", "Hello", "hello"),
        ("Hello  World", "Hello World", "hello__world"),
        ("héllo wörld", "HélloWörld", "héllo_wörld"),
        ("ÀÉÎ", "Àéî", "àéî"),
        ("a.b.c", "A.b.c", "a.b.c"),
        ("foo123Bar", "Foo123Bar", "foo123_bar"),
        ("Foo123", "Foo123", "foo123"),
        ("123abc", "123abc", "123abc"),
        ("ID", "Id", "id"),
        ("userID", "UserID", "user_id"),
        ("userIDs", "UserIDs", "user_i_ds"),
        ("a-B-c", "ABC", "a_b_c"),
        ("A_B", "AB", "a_b"),
        ("aB", "AB", "a_b"),
        ("AB", "Ab", "ab"),
        ("A1", "A1", "a1"),
        ("1A", "1A", "1_a"),
        ("a_1", "A1", "a_1"),
        ("a 1", "A1", "a_1"),
        (
            "snake_caseWithCamel",
            "SnakeCaseWithCamel",
            "snake_case_with_camel",
        ),
        ("iOS", "IOS", "i_os"),
        ("XMLHttpRequest", "XmlhttpRequest", "xml_http_request"),
        ("k8sVersion", "K8sVersion", "k_8s_version"),
        ("v1beta1", "V1beta1", "v_1beta1"),
        ("URLParse", "Urlparse", "url_parse"),
        ("  trim  ", "  Trim  ", "__trim__"),
        ("tab\there", "TabHere", "tab_here"),
        ("x.Y", "X.Y", "x.y"),
        ("éCole", "ÉCole", "é_cole"),
    ];

    #[test]
    fn conversions_follow_xstrings() {
        for (word, camel, snake) in SAMPLES {
            assert_eq!(camel_case(word), *camel, "camelcase {word:?}");
            assert_eq!(lower_case_words(word, '_'), *snake, "snakecase {word:?}");
            assert_eq!(
                lower_case_words(word, '-'),
                snake.replace('_', "-"),
                "kebabcase {word:?}"
            );
        }
    }
}

//! The scanner of Go's text/template, state for state: text, actions with their trim markers
//! (`{{- ` and ` -}}`), comments, strings, raw strings, character constants and numbers, each item
//! with its byte offset and line. Error texts are Go's.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub typ: ItemType,
    pub pos: u32,
    pub val: Cow<'a, str>,
    pub line: u32,
}

impl std::fmt::Display for Item<'_> {
    /// Go's `item.String()`, as parse errors quote it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.typ {
            ItemType::Eof => f.write_str("EOF"),
            ItemType::Error => f.write_str(&self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", crate::render::golang::quote(&head))
            }
            _ => f.write_str(&crate::render::golang::quote(&self.val)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
    Done,
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
const TRIM_MARKER_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

fn trim_right_len(s: &str) -> usize {
    s.len() - s.trim_end_matches(is_space).len()
}

fn trim_left_len(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_space).len()
}

/// The scanner. Items come one at a time from [`Lexer::next_item`].
pub struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
    paren_depth: i32,
    line: u32,
    start_line: u32,
    state: State,
}

const EOF: char = '\u{FFFF}';

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            start: 0,
            width: 0,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            state: State::Text,
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> char {
        match self.input[self.pos..].chars().next() {
            None => {
                self.width = 0;
                EOF
            }
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                if c == '\n' {
                    self.line += 1;
                }
                c
            }
        }
    }

    fn peek(&mut self) -> char {
        let c = self.next();
        self.backup();
        c
    }

    fn backup(&mut self) {
        self.pos -= self.width;
        if self.width == 1 && self.input.as_bytes()[self.pos] == b'\n' {
            self.line -= 1;
        }
    }

    fn emit(&mut self, typ: ItemType) -> Item<'a> {
        let item = Item {
            typ,
            pos: self.start as u32,
            val: Cow::Borrowed(&self.input[self.start..self.pos]),
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        item
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos]
            .bytes()
            .filter(|b| *b == b'\n')
            .count() as u32;
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        let c = self.next();
        if c != EOF && valid.contains(c) {
            return true;
        }
        self.backup();
        false
    }

    fn accept_run(&mut self, valid: &str) {
        loop {
            let c = self.next();
            if c == EOF || !valid.contains(c) {
                break;
            }
        }
        self.backup();
    }

    fn error(&mut self, message: String) -> Item<'a> {
        self.state = State::Done;
        Item {
            typ: ItemType::Error,
            pos: self.start as u32,
            val: Cow::Owned(message),
            line: self.start_line,
        }
    }

    /// The next item; after an error or EOF, EOF forever.
    pub fn next_item(&mut self) -> Item<'a> {
        loop {
            let emitted = match self.state {
                State::Done => {
                    return Item {
                        typ: ItemType::Eof,
                        pos: self.pos as u32,
                        val: Cow::Borrowed(""),
                        line: self.line,
                    };
                }
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::Comment => self.lex_comment(),
                State::RightDelim => self.lex_right_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Space => self.lex_space(),
                State::Identifier => self.lex_identifier(),
                State::Field => self.lex_field_or_variable(ItemType::Field),
                State::Variable => self.lex_variable(),
                State::Char => self.lex_char(),
                State::Number => self.lex_number(),
                State::Quote => self.lex_quote(),
                State::RawQuote => self.lex_raw_quote(),
            };
            if let Some(item) = emitted {
                return item;
            }
        }
    }

    fn lex_text(&mut self) -> Option<Item<'a>> {
        self.width = 0;
        if let Some(x) = self.rest().find(LEFT_DELIM) {
            self.pos += x;
            let trim = if has_left_trim_marker(&self.input[self.pos + LEFT_DELIM.len()..]) {
                trim_right_len(&self.input[self.start..self.pos])
            } else {
                0
            };
            self.pos -= trim;
            let mut item = None;
            if self.pos > self.start {
                self.line += self.input[self.start..self.pos]
                    .bytes()
                    .filter(|b| *b == b'\n')
                    .count() as u32;
                item = Some(self.emit(ItemType::Text));
            }
            self.pos += trim;
            self.ignore();
            self.state = State::LeftDelim;
            return item;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += self.input[self.start..self.pos]
                .bytes()
                .filter(|b| *b == b'\n')
                .count() as u32;
            return Some(self.emit(ItemType::Text));
        }
        self.state = State::Done;
        Some(self.emit(ItemType::Eof))
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        (rest.starts_with(RIGHT_DELIM), false)
    }

    fn lex_left_delim(&mut self) -> Option<Item<'a>> {
        self.pos += LEFT_DELIM.len();
        let trim = has_left_trim_marker(self.rest());
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            self.state = State::Comment;
            return None;
        }
        let item = self.emit(ItemType::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        self.state = State::InsideAction;
        Some(item)
    }

    fn lex_comment(&mut self) -> Option<Item<'a>> {
        self.pos += LEFT_COMMENT.len();
        let Some(i) = self.rest().find(RIGHT_COMMENT) else {
            return Some(self.error("unclosed comment".to_owned()));
        };
        self.pos += i + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Some(self.error("comment ends before closing delimiter".to_owned()));
        }
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            self.pos += trim_left_len(self.rest());
        }
        self.ignore();
        self.state = State::Text;
        None
    }

    fn lex_right_delim(&mut self) -> Option<Item<'a>> {
        let trim = has_right_trim_marker(self.rest());
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        let item = self.emit(ItemType::RightDelim);
        if trim {
            self.pos += trim_left_len(self.rest());
            self.ignore();
        }
        self.state = State::Text;
        Some(item)
    }

    fn lex_inside_action(&mut self) -> Option<Item<'a>> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                self.state = State::RightDelim;
                return None;
            }
            return Some(self.error("unclosed left paren".to_owned()));
        }
        let c = self.next();
        let item = match c {
            EOF => return Some(self.error("unclosed action".to_owned())),
            c if is_space(c) => {
                self.backup();
                self.state = State::Space;
                return None;
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != '=' {
                    return Some(self.error("expected :=".to_owned()));
                }
                self.emit(ItemType::Declare)
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => {
                self.state = State::Quote;
                return None;
            }
            '`' => {
                self.state = State::RawQuote;
                return None;
            }
            '$' => {
                self.state = State::Variable;
                return None;
            }
            '\'' => {
                self.state = State::Char;
                return None;
            }
            '.' if self
                .input
                .as_bytes()
                .get(self.pos)
                .is_some_and(|b| !b.is_ascii_digit()) =>
            {
                self.state = State::Field;
                return None;
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup();
                self.state = State::Number;
                return None;
            }
            c if is_alphanumeric(c) => {
                self.backup();
                self.state = State::Identifier;
                return None;
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return Some(self.error("unexpected right paren U+0029 ')'".to_owned()));
                }
                self.emit(ItemType::RightParen)
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemType::Char),
            c => {
                return Some(self.error(format!(
                    "unrecognized character in action: {}",
                    unicode_name(c)
                )));
            }
        };
        self.state = State::InsideAction;
        Some(item)
    }

    fn lex_space(&mut self) -> Option<Item<'a>> {
        let mut spaces = 0;
        while is_space(self.peek()) {
            self.next();
            spaces += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim_marker(before) && before[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            self.backup();
            if spaces == 1 {
                self.state = State::RightDelim;
                return None;
            }
        }
        self.state = State::InsideAction;
        Some(self.emit(ItemType::Space))
    }

    fn at_terminator(&mut self) -> bool {
        let c = self.peek();
        is_space(c) || matches!(c, EOF | '.' | ',' | '|' | ':' | ')' | '(') || c == '}'
    }

    fn lex_identifier(&mut self) -> Option<Item<'a>> {
        loop {
            let c = self.next();
            if is_alphanumeric(c) && c != EOF {
                continue;
            }
            self.backup();
            if !self.at_terminator() {
                return Some(self.error(format!("bad character {}", unicode_name(c))));
            }
            let word = &self.input[self.start..self.pos];
            let typ = match keyword(word) {
                Some(typ) => typ,
                None if word.starts_with('.') => ItemType::Field,
                None if word == "true" || word == "false" => ItemType::Bool,
                None => ItemType::Identifier,
            };
            self.state = State::InsideAction;
            return Some(self.emit(typ));
        }
    }

    fn lex_variable(&mut self) -> Option<Item<'a>> {
        if self.at_terminator() {
            self.state = State::InsideAction;
            return Some(self.emit(ItemType::Variable));
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> Option<Item<'a>> {
        if self.at_terminator() {
            self.state = State::InsideAction;
            return Some(self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            }));
        }
        let mut c;
        loop {
            c = self.next();
            if c == EOF || !is_alphanumeric(c) {
                self.backup();
                break;
            }
        }
        if !self.at_terminator() {
            return Some(self.error(format!("bad character {}", unicode_name(c))));
        }
        self.state = State::InsideAction;
        Some(self.emit(typ))
    }

    fn lex_char(&mut self) -> Option<Item<'a>> {
        loop {
            match self.next() {
                '\\' => {
                    let c = self.next();
                    if c != EOF && c != '\n' {
                        continue;
                    }
                    return Some(self.error("unterminated character constant".to_owned()));
                }
                EOF | '\n' => {
                    return Some(self.error("unterminated character constant".to_owned()));
                }
                '\'' => break,
                _ => {}
            }
        }
        self.state = State::InsideAction;
        Some(self.emit(ItemType::CharConstant))
    }

    fn lex_number(&mut self) -> Option<Item<'a>> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_owned();
            return Some(self.error(format!(
                "bad number syntax: {}",
                crate::render::golang::quote(&text)
            )));
        }
        let sign = self.peek();
        if sign == '+' || sign == '-' {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_owned();
                return Some(self.error(format!(
                    "bad number syntax: {}",
                    crate::render::golang::quote(&text)
                )));
            }
            self.state = State::InsideAction;
            return Some(self.emit(ItemType::Complex));
        }
        self.state = State::InsideAction;
        Some(self.emit(ItemType::Number))
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        let c = self.peek();
        if c != EOF && is_alphanumeric(c) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> Option<Item<'a>> {
        loop {
            match self.next() {
                '\\' => {
                    let c = self.next();
                    if c != EOF && c != '\n' {
                        continue;
                    }
                    return Some(self.error("unterminated quoted string".to_owned()));
                }
                EOF | '\n' => return Some(self.error("unterminated quoted string".to_owned())),
                '"' => break,
                _ => {}
            }
        }
        self.state = State::InsideAction;
        Some(self.emit(ItemType::String))
    }

    fn lex_raw_quote(&mut self) -> Option<Item<'a>> {
        loop {
            match self.next() {
                EOF => return Some(self.error("unterminated raw quoted string".to_owned())),
                '`' => break,
                _ => {}
            }
        }
        self.state = State::InsideAction;
        Some(self.emit(ItemType::RawString))
    }
}

/// Go's `%#U`: `U+0041 'A'`.
pub fn unicode_name(c: char) -> String {
    if c == EOF {
        return "U+FFFFFFFFFFFFFFFF".to_owned();
    }
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(input: &str) -> Vec<(ItemType, String)> {
        let mut lexer = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let item = lexer.next_item();
            let done = matches!(item.typ, ItemType::Eof | ItemType::Error);
            out.push((item.typ, item.val.into_owned()));
            if done {
                return out;
            }
        }
    }

    #[test]
    fn trim_markers_remove_surrounding_space() {
        let found = items("a  \n{{- .x -}}\n  b");
        assert_eq!(
            found,
            vec![
                (ItemType::Text, "a".to_owned()),
                (ItemType::LeftDelim, "{{".to_owned()),
                (ItemType::Field, ".x".to_owned()),
                (ItemType::RightDelim, "}}".to_owned()),
                (ItemType::Text, "b".to_owned()),
                (ItemType::Eof, String::new()),
            ]
        );
    }

    #[test]
    fn numbers_strings_and_keywords() {
        let found = items("{{if eq $x -3 0x1F 1.5e3 'a' `raw` \"q\\\"\"}}");
        let types: Vec<ItemType> = found.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            types,
            vec![
                ItemType::LeftDelim,
                ItemType::If,
                ItemType::Space,
                ItemType::Identifier,
                ItemType::Space,
                ItemType::Variable,
                ItemType::Space,
                ItemType::Number,
                ItemType::Space,
                ItemType::Number,
                ItemType::Space,
                ItemType::Number,
                ItemType::Space,
                ItemType::CharConstant,
                ItemType::Space,
                ItemType::RawString,
                ItemType::Space,
                ItemType::String,
                ItemType::RightDelim,
                ItemType::Eof,
            ]
        );
    }

    #[test]
    fn comments_vanish_and_errors_are_gos() {
        assert_eq!(
            items("a{{/* c */}}b"),
            vec![
                (ItemType::Text, "a".to_owned()),
                (ItemType::Text, "b".to_owned()),
                (ItemType::Eof, String::new())
            ]
        );
        assert_eq!(
            items("{{/* c */ x}}").last().unwrap().1,
            "comment ends before closing delimiter"
        );
        assert_eq!(
            items("{{ \"abc").last().unwrap().1,
            "unterminated quoted string"
        );
        assert_eq!(items("{{ .x ").last().unwrap().1, "unclosed action");
    }
}

//! The parser of Go's text/template: the same grammar, the same checks at parse time (undefined
//! functions and variables, `break` outside `range`, misplaced `else`/`end`) and Go's error
//! texts, `template: <file>:<line>: <message>`. Nesting of parentheses and blocks is capped at
//! [`MAX_NESTING`] (Go allows 10,000 parentheses and unbounded blocks on a growable stack).

use std::sync::Arc;

use super::ast::{Arg, Branch, Command, Decl, ListNode, Node, Number, Pipe, Pos, Tree};
use super::lex::{Item, ItemType, Lexer};

/// Deepest nesting of parentheses and control blocks a template may have.
pub const MAX_NESTING: usize = 1000;
const MAX_PIPELINE_COMMANDS: usize = 100_000;

/// A template that does not parse: Go's message, and the line for findings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {file}:{line}: {message}")]
pub struct ParseError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// What the parser produced from one file: its top-level tree and every `define`/`block`.
pub struct Parsed {
    pub trees: Vec<Tree>,
}

enum Parsed1 {
    Node(Node),
    End,
    Else(Pos),
}

struct Parser<'a> {
    lex: Lexer<'a>,
    tokens: [Item<'a>; 3],
    peek_count: usize,
    vars: Vec<Arc<str>>,
    parse_name: Arc<str>,
    text: Arc<str>,
    is_function: &'a dyn Fn(&str) -> bool,
    range_depth: usize,
    depth: usize,
    action_line: u32,
    trees: Vec<Tree>,
}

type Result<T> = std::result::Result<T, ParseError>;

/// Parses `text` (the file `name`) into trees: the file's own tree named `name`, then each
/// template it defines. `is_function` says which function names exist.
pub fn parse(name: &str, text: &str, is_function: &dyn Fn(&str) -> bool) -> Result<Parsed> {
    let empty = Item {
        typ: ItemType::Eof,
        pos: 0,
        val: "".into(),
        line: 1,
    };
    let shared: Arc<str> = Arc::from(text);
    let mut parser = Parser {
        lex: Lexer::new(text),
        tokens: [empty.clone(), empty.clone(), empty],
        peek_count: 0,
        vars: vec![Arc::from("$")],
        parse_name: Arc::from(name),
        text: shared,
        is_function,
        range_depth: 0,
        depth: 0,
        action_line: 0,
        trees: Vec::new(),
    };
    let root = parser.parse_top()?;
    let tree = Tree {
        name: parser.parse_name.clone(),
        parse_name: parser.parse_name.clone(),
        text: parser.text.clone(),
        root,
    };
    parser.add(tree)?;
    Ok(Parsed {
        trees: parser.trees,
    })
}

impl<'a> Parser<'a> {
    fn error(&self, message: String) -> ParseError {
        ParseError {
            file: self.parse_name.to_string(),
            line: self.tokens[0].line,
            message,
        }
    }

    fn next(&mut self) -> Item<'a> {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.tokens[0] = self.lex.next_item();
        }
        self.tokens[self.peek_count].clone()
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item<'a>) {
        self.tokens[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item<'a>, t1: Item<'a>) {
        self.tokens[1] = t1;
        self.tokens[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item<'a> {
        if self.peek_count > 0 {
            return self.tokens[self.peek_count - 1].clone();
        }
        self.peek_count = 1;
        self.tokens[0] = self.lex.next_item();
        self.tokens[0].clone()
    }

    fn next_non_space(&mut self) -> Item<'a> {
        loop {
            let token = self.next();
            if token.typ != ItemType::Space {
                return token;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item<'a> {
        let token = self.next_non_space();
        self.backup();
        token
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> Result<Item<'a>> {
        let token = self.next_non_space();
        if token.typ != expected {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    fn unexpected(&self, token: &Item<'_>, context: &str) -> ParseError {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_owned();
                }
            }
            return self.error(format!("{token}{extra}"));
        }
        self.error(format!("unexpected {token} in {context}"))
    }

    fn add(&mut self, tree: Tree) -> Result<()> {
        if let Some(existing) = self.trees.iter_mut().find(|t| t.name == tree.name) {
            if existing.is_empty() {
                *existing = tree;
                return Ok(());
            }
            if !tree.is_empty() {
                return Err(self.error(format!(
                    "template: multiple definition of template {}",
                    crate::render::golang::quote(&tree.name)
                )));
            }
            return Ok(());
        }
        self.trees.push(tree);
        Ok(())
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("max expression depth exceeded".to_owned()));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn parse_top(&mut self) -> Result<ListNode> {
        let mut root = ListNode {
            pos: self.peek().pos,
            nodes: Vec::new(),
        };
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed1::Node(node) => root.nodes.push(node),
                Parsed1::End => return Err(self.error("unexpected {{end}}".to_owned())),
                Parsed1::Else(_) => return Err(self.error("unexpected {{else}}".to_owned())),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> Result<()> {
        const CONTEXT: &str = "define clause";
        let token = self.next_non_space();
        if !matches!(token.typ, ItemType::String | ItemType::RawString) {
            return Err(self.unexpected(&token, CONTEXT));
        }
        let name = unquote(&token.val).map_err(|e| self.error(e))?;
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let saved = std::mem::replace(&mut self.vars, vec![Arc::from("$")]);
        let (root, end) = self.item_list()?;
        self.vars = saved;
        if let Parsed1::Else(_) = end {
            return Err(self.error(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        let tree = Tree {
            name: Arc::from(name.as_str()),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
        };
        self.add(tree)
    }

    /// Items up to `{{end}}` or `{{else}}`, which is returned separately.
    fn item_list(&mut self) -> Result<(ListNode, Parsed1)> {
        let mut list = ListNode {
            pos: self.peek_non_space().pos,
            nodes: Vec::new(),
        };
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed1::Node(node) => list.nodes.push(node),
                end => return Ok((list, end)),
            }
        }
        Err(self.error("unexpected EOF".to_owned()))
    }

    fn text_or_action(&mut self) -> Result<Parsed1> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed1::Node(Node::Text {
                pos: token.pos,
                text: Arc::from(token.val.as_ref()),
            })),
            ItemType::LeftDelim => {
                self.action_line = token.line;
                let result = self.action();
                self.action_line = 0;
                result
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> Result<Parsed1> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => return self.block_control().map(Parsed1::Node),
            ItemType::Break | ItemType::Continue => {
                let name = if token.typ == ItemType::Break {
                    "break"
                } else {
                    "continue"
                };
                let next = self.next_non_space();
                if next.typ != ItemType::RightDelim {
                    return Err(self.unexpected(&next, &format!("{{{{{name}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.error(format!("{{{{{name}}}}} outside {{{{range}}}}")));
                }
                return Ok(Parsed1::Node(if token.typ == ItemType::Break {
                    Node::Break { pos: token.pos }
                } else {
                    Node::Continue { pos: token.pos }
                }));
            }
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed1::End);
            }
            ItemType::If => return self.control("if").map(|b| Parsed1::Node(Node::If(b))),
            ItemType::Range => {
                return self.control("range").map(|b| Parsed1::Node(Node::Range(b)));
            }
            ItemType::Template => return self.template_control().map(Parsed1::Node),
            ItemType::With => {
                return self.control("with").map(|b| Parsed1::Node(Node::With(b)));
            }
            _ => {}
        }
        self.backup();
        let token = self.peek();
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed1::Node(Node::Action {
            pos: token.pos,
            pipe,
        }))
    }

    fn else_control(&mut self) -> Result<Parsed1> {
        let peek = self.peek_non_space();
        if matches!(peek.typ, ItemType::If | ItemType::With) {
            return Ok(Parsed1::Else(peek.pos));
        }
        let token = self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed1::Else(token.pos))
    }

    fn control(&mut self, context: &str) -> Result<Branch> {
        self.enter()?;
        let mark = self.vars.len();
        let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.control_inner(context));
        self.vars.truncate(mark);
        self.leave();
        result
    }

    fn control_inner(&mut self, context: &str) -> Result<Branch> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = listed?;
        let else_list = match next {
            Parsed1::End => None,
            Parsed1::Else(pos) => {
                if context == "if" && self.peek().typ == ItemType::If {
                    self.next();
                    Some(ListNode {
                        pos,
                        nodes: vec![Node::If(self.control("if")?)],
                    })
                } else if context == "with" && self.peek().typ == ItemType::With {
                    self.next();
                    Some(ListNode {
                        pos,
                        nodes: vec![Node::With(self.control("with")?)],
                    })
                } else {
                    let (else_list, next) = self.item_list()?;
                    match next {
                        Parsed1::End => Some(else_list),
                        _ => return Err(self.error("expected end; found {{else}}".to_owned())),
                    }
                }
            }
            Parsed1::Node(_) => unreachable_node(),
        };
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn block_control(&mut self) -> Result<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        self.enter()?;
        let saved = std::mem::replace(&mut self.vars, vec![Arc::from("$")]);
        let listed = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.item_list());
        self.vars = saved;
        self.leave();
        let (root, end) = listed?;
        if let Parsed1::Else(_) = end {
            return Err(self.error(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        let name: Arc<str> = Arc::from(name.as_str());
        self.add(Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
        })?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> Result<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            Some(self.pipeline(CONTEXT, ItemType::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: token.pos,
            name: Arc::from(name.as_str()),
            pipe,
        })
    }

    fn template_name(&self, token: &Item<'_>, context: &str) -> Result<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => {
                unquote(&token.val).map_err(|e| self.error(e))
            }
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> Result<Pipe> {
        let token = self.peek_non_space();
        let mut pipe = Pipe {
            pos: token.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations or assignments: `$x :=`, `$x =`, `$i, $v :=`.
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            self.next();
            let after_variable = self.peek();
            let next = self.peek_non_space();
            if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                pipe.is_assign = next.typ == ItemType::Assign;
                self.next_non_space();
                pipe.decl.push(Decl {
                    pos: v.pos,
                    name: Arc::from(v.val.as_ref()),
                });
                self.vars.push(Arc::from(v.val.as_ref()));
                break;
            } else if next.typ == ItemType::Char && next.val == "," {
                self.next_non_space();
                pipe.decl.push(Decl {
                    pos: v.pos,
                    name: Arc::from(v.val.as_ref()),
                });
                self.vars.push(Arc::from(v.val.as_ref()));
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().typ {
                        ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                            continue;
                        }
                        _ => {
                            return Err(
                                self.error("range can only initialize variables".to_owned())
                            );
                        }
                    }
                }
                return Err(self.error(format!("too many declarations in {context}")));
            } else if after_variable.typ == ItemType::Space {
                self.backup3(v, after_variable);
                break;
            } else {
                self.backup2(v);
                break;
            }
        }
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let command = self.command()?;
                    pipe.cmds.push(command);
                    if pipe.cmds.len() > MAX_PIPELINE_COMMANDS {
                        return Err(self.error("pipeline too long".to_owned()));
                    }
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<()> {
        if pipe.cmds.is_empty() {
            return Err(self.error(format!("missing value for {context}")));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number(_)
                    | Arg::String { .. }
            ) {
                return Err(self.error(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> Result<Command> {
        let mut cmd = Command {
            pos: self.peek_non_space().pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.error("empty command".to_owned()));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields: Vec<Arc<str>> = Vec::new();
        while self.peek().typ == ItemType::Field {
            let field = self.next();
            fields.push(Arc::from(&field.val[1..]));
        }
        Ok(Some(match node {
            Arg::Field { mut ident, .. } => {
                ident.extend(fields);
                Arg::Field { pos, ident }
            }
            Arg::Variable { mut ident, .. } => {
                ident.extend(fields);
                Arg::Variable { pos, ident }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number(_)
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return Err(self.error(format!(
                    "unexpected . after term {}",
                    crate::render::golang::quote(&node.to_string())
                )));
            }
            other => Arg::Chain {
                pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let token = self.next_non_space();
        Ok(Some(match token.typ {
            ItemType::Identifier => {
                if !(self.is_function)(&token.val) {
                    return Err(self.error(format!(
                        "function {} not defined",
                        crate::render::golang::quote(&token.val)
                    )));
                }
                Arg::Identifier {
                    pos: token.pos,
                    name: Arc::from(token.val.as_ref()),
                }
            }
            ItemType::Dot => Arg::Dot { pos: token.pos },
            ItemType::Nil => Arg::Nil { pos: token.pos },
            ItemType::Variable => {
                if !self.vars.iter().any(|v| **v == *token.val) {
                    return Err(self.error(format!(
                        "undefined variable {}",
                        crate::render::golang::quote(&token.val)
                    )));
                }
                Arg::Variable {
                    pos: token.pos,
                    ident: vec![Arc::from(token.val.as_ref())],
                }
            }
            ItemType::Field => Arg::Field {
                pos: token.pos,
                ident: vec![Arc::from(&token.val[1..])],
            },
            ItemType::Bool => Arg::Bool {
                pos: token.pos,
                value: token.val == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => Arg::Number(Box::new(
                number(token.pos, &token.val, token.typ).map_err(|e| self.error(e))?,
            )),
            ItemType::LeftParen => {
                self.enter()?;
                let pipe = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    self.pipeline("parenthesized pipeline", ItemType::RightParen)
                });
                self.leave();
                Arg::Pipe(Box::new(pipe?))
            }
            ItemType::String | ItemType::RawString => Arg::String {
                pos: token.pos,
                quoted: Arc::from(token.val.as_ref()),
                text: Arc::from(unquote(&token.val).map_err(|e| self.error(e))?.as_str()),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn unreachable_node() -> ! {
    // item_list only returns End or Else as its terminator.
    panic!("item_list returned a node as its terminator")
}

/// Go's `strconv.Unquote` for the three literal forms templates use.
pub fn unquote(text: &str) -> std::result::Result<String, String> {
    const INVALID: &str = "invalid syntax";
    if let Some(raw) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        if raw.contains('`') {
            return Err(INVALID.to_owned());
        }
        return Ok(raw.replace('\r', ""));
    }
    let quote = text.chars().next().ok_or(INVALID)?;
    if quote != '"' && quote != '\'' {
        return Err(INVALID.to_owned());
    }
    let inner = text
        .strip_prefix(quote)
        .and_then(|t| t.strip_suffix(quote))
        .ok_or(INVALID)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote || (c == '\n') {
            return Err(INVALID.to_owned());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = chars.next().ok_or(INVALID)?;
        match escaped {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' | '"' => {
                if escaped != quote {
                    return Err(INVALID.to_owned());
                }
                out.push(escaped);
            }
            'x' | 'u' | 'U' => {
                let count = match escaped {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let digits: String = (0..count).filter_map(|_| chars.next()).collect();
                if digits.len() != count {
                    return Err(INVALID.to_owned());
                }
                let code = u32::from_str_radix(&digits, 16).map_err(|_| INVALID)?;
                if escaped == 'x' {
                    // A byte: Go strings may hold any byte; text here is UTF-8, so a byte above
                    // 0x7f is taken as the character of that code point.
                    out.push(char::from_u32(code).ok_or(INVALID)?);
                } else {
                    out.push(char::from_u32(code).ok_or(INVALID)?);
                }
            }
            '0'..='7' => {
                let mut code = escaped.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars.next().and_then(|c| c.to_digit(8)).ok_or(INVALID)?;
                    code = code * 8 + d;
                }
                if code > 255 {
                    return Err(INVALID.to_owned());
                }
                out.push(char::from_u32(code).ok_or(INVALID)?);
            }
            _ => return Err(INVALID.to_owned()),
        }
    }
    if quote == '\'' && out.chars().count() != 1 {
        return Err(INVALID.to_owned());
    }
    Ok(out)
}

/// Removes `_` digit separators the way Go accepts them (only between digits or after a base
/// prefix); None when they are misplaced.
fn strip_underscores(text: &str) -> Option<String> {
    if !text.contains('_') {
        return Some(text.to_owned());
    }
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let bytes = body.as_bytes();
    let prefixed = bytes.len() > 2
        && bytes[0] == b'0'
        && matches!(bytes[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B');
    let mut previous = if prefixed { b'_' } else { b'.' };
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'_' {
            let after_prefix = prefixed && i == 2;
            if !(previous.is_ascii_hexdigit() || after_prefix) {
                return None;
            }
        } else if previous == b'_' && !b.is_ascii_hexdigit() && !(prefixed && i == 2) {
            return None;
        }
        previous = *b;
    }
    if previous == b'_' {
        return None;
    }
    Some(text.replace('_', ""))
}

fn parse_uint(text: &str) -> Option<u64> {
    let text = strip_underscores(text)?;
    let text = text.strip_prefix('+').unwrap_or(&text);
    let (digits, radix) = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (hex, 16)
    } else if let Some(oct) = text.strip_prefix("0o").or(text.strip_prefix("0O")) {
        (oct, 8)
    } else if let Some(bin) = text.strip_prefix("0b").or(text.strip_prefix("0B")) {
        (bin, 2)
    } else if text.len() > 1 && text.starts_with('0') {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = parse_uint(body)?;
    if negative {
        if magnitude == 1 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(magnitude).ok().map(|m| -m)
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

fn parse_hex_float(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let body = body.strip_prefix("0x").or(body.strip_prefix("0X"))?;
    let (mantissa, exponent) = body.split_once(['p', 'P'])?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let value = value * 2f64.powi(exponent);
    Some(if negative { -value } else { value })
}

fn parse_float(text: &str) -> Option<f64> {
    let text = strip_underscores(text)?;
    if text.contains(['x', 'X']) {
        return parse_hex_float(&text);
    }
    let lowered = text.to_ascii_lowercase();
    if lowered.contains("inf") || lowered.contains("nan") {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Go's `newNumber`: the constant under every type that represents it exactly.
fn number(pos: Pos, text: &str, typ: ItemType) -> std::result::Result<Number, String> {
    let mut n = Number {
        pos,
        text: Arc::from(text),
        is_int: false,
        is_uint: false,
        is_float: false,
        int: 0,
        uint: 0,
        float: 0.0,
    };
    if typ == ItemType::CharConstant {
        let value = unquote(text)?;
        let c = value.chars().next().ok_or("invalid syntax")?;
        n.is_int = true;
        n.is_uint = true;
        n.is_float = true;
        n.int = i64::from(u32::from(c));
        n.uint = u64::from(u32::from(c));
        n.float = f64::from(u32::from(c));
        return Ok(n);
    }
    if typ == ItemType::Complex || text.ends_with('i') {
        return Err(format!(
            "complex constants are not supported: {}",
            crate::render::golang::quote(text)
        ));
    }
    if let Some(u) = parse_uint(text) {
        n.is_uint = true;
        n.uint = u;
    }
    if let Some(i) = parse_int(text) {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
            n.uint = 0;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else if let Some(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!(
                "integer overflow: {}",
                crate::render::golang::quote(text)
            ));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
            n.is_uint = true;
            n.uint = f as u64;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!(
            "illegal number syntax: {}",
            crate::render::golang::quote(text)
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        matches!(name, "printf" | "eq" | "len" | "quote")
    }

    fn parse_ok(text: &str) -> Parsed {
        parse("t.yaml", text, &known).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn parse_err(text: &str) -> String {
        match parse("t.yaml", text, &known) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn round_trips_through_go_string_forms() {
        let parsed = parse_ok(
            "a{{ if eq .Values.x 1 }}b{{ else if .y }}c{{ else }}d{{ end }}{{ range $i, $v := .l }}{{ $v | quote }}{{ end }}",
        );
        assert_eq!(parsed.trees.len(), 1);
        assert_eq!(
            parsed.trees[0].root.to_string(),
            "a{{if eq .Values.x 1}}b{{else}}{{if .y}}c{{else}}d{{end}}{{end}}{{range $i, $v := .l}}{{$v | quote}}{{end}}"
        );
    }

    #[test]
    fn defines_and_blocks_become_their_own_trees() {
        let parsed = parse_ok("{{ define \"a\" }}A{{ end }}x{{ block \"b\" . }}B{{ end }}");
        let names: Vec<&str> = parsed.trees.iter().map(|t| &*t.name).collect();
        assert_eq!(names, ["a", "b", "t.yaml"]);
    }

    #[test]
    fn errors_are_gos() {
        assert_eq!(
            parse_err("{{ if .x }}"),
            "template: t.yaml:1: unexpected EOF"
        );
        assert_eq!(
            parse_err("x\n{{ end }}"),
            "template: t.yaml:2: unexpected {{end}}"
        );
        assert_eq!(
            parse_err("{{ nope 1 }}"),
            "template: t.yaml:1: function \"nope\" not defined"
        );
        assert_eq!(
            parse_err("{{ $x }}"),
            "template: t.yaml:1: undefined variable \"$x\""
        );
        assert_eq!(
            parse_err("{{ break }}"),
            "template: t.yaml:1: {{break}} outside {{range}}"
        );
        assert_eq!(
            parse_err("{{ .x | 3 }}"),
            "template: t.yaml:1: non executable command in pipeline stage 2"
        );
        assert_eq!(
            parse_err("{{ define \"a\" }}1{{ end }}{{ define \"a\" }}2{{ end }}"),
            "template: t.yaml:1: template: multiple definition of template \"a\""
        );
    }

    #[test]
    fn variables_are_scoped_to_their_block() {
        parse_ok("{{ $x := 1 }}{{ $x }}{{ if true }}{{ $y := 2 }}{{ $y }}{{ end }}");
        assert_eq!(
            parse_err("{{ if true }}{{ $y := 2 }}{{ end }}{{ $y }}"),
            "template: t.yaml:1: undefined variable \"$y\""
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!(
            "{}{}",
            "{{ if true }}".repeat(1100),
            "{{ end }}".repeat(1100)
        );
        assert!(parse_err(&deep).contains("max expression depth exceeded"));
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(1100), ")".repeat(1100));
        assert!(parse_err(&parens).contains("max expression depth exceeded"));
    }

    #[test]
    fn numbers_follow_go() {
        let n = number(0, "0x1F", ItemType::Number).unwrap();
        assert!(n.is_int && n.int == 31);
        let n = number(0, "1_000", ItemType::Number).unwrap();
        assert_eq!(n.int, 1000);
        let n = number(0, "1.5e3", ItemType::Number).unwrap();
        assert!(n.is_float && n.is_int && n.int == 1500);
        let n = number(0, "'a'", ItemType::CharConstant).unwrap();
        assert_eq!(n.int, 97);
        assert!(number(0, "99999999999999999999", ItemType::Number).is_err());
        let n = number(0, "010", ItemType::Number).unwrap();
        assert_eq!(n.int, 8);
    }
}

//! The parse tree of Go's text/template. Every node keeps its byte offset for error locations, and
//! prints back as Go's `String()` does, since Go's error messages quote the node they failed at.

use std::fmt::{self, Display, Write as _};
use std::sync::Arc;

/// Byte offset in the template text.
pub type Pos = u32;

/// One parsed template: a file's top level or a `define`d template.
#[derive(Debug)]
pub struct Tree {
    /// The template's name (`mychart/templates/deployment.yaml`, or a define's name).
    pub name: Arc<str>,
    /// The file it was parsed from, for error messages.
    pub parse_name: Arc<str>,
    /// The file's text, for error locations.
    pub text: Arc<str>,
    pub root: ListNode,
}

impl Tree {
    /// Go's `ErrorContext` location: `name:line:col` (col counted in bytes from 0 on the first
    /// line, from 1 after a newline... exactly as Go counts).
    pub fn location(&self, pos: Pos) -> String {
        let pos = (pos as usize).min(self.text.len());
        let before = &self.text[..pos];
        let line = 1 + before.bytes().filter(|b| *b == b'\n').count();
        let column = match before.rfind('\n') {
            None => pos,
            Some(newline) => pos - (newline + 1),
        };
        format!("{}:{line}:{column}", self.parse_name)
    }

    /// Whether the tree holds nothing but spaces (Go's `IsEmptyTree`): such a define never
    /// replaces an existing template of the same name.
    pub fn is_empty(&self) -> bool {
        self.root.nodes.iter().all(|node| match node {
            Node::Text { text, .. } => text.trim().is_empty(),
            _ => false,
        })
    }
}

#[derive(Debug, Default)]
pub struct ListNode {
    pub pos: Pos,
    pub nodes: Vec<Node>,
}

#[derive(Debug)]
pub enum Node {
    Text {
        pos: Pos,
        text: Arc<str>,
    },
    Action {
        pos: Pos,
        pipe: Pipe,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template {
        pos: Pos,
        name: Arc<str>,
        pipe: Option<Pipe>,
    },
    Break {
        pos: Pos,
    },
    Continue {
        pos: Pos,
    },
}

impl Node {
    pub fn pos(&self) -> Pos {
        match self {
            Node::Text { pos, .. }
            | Node::Action { pos, .. }
            | Node::Template { pos, .. }
            | Node::Break { pos }
            | Node::Continue { pos } => *pos,
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => branch.pos,
        }
    }
}

#[derive(Debug)]
pub struct Branch {
    pub pos: Pos,
    pub pipe: Pipe,
    pub list: ListNode,
    pub else_list: Option<ListNode>,
}

/// A declared or assigned variable (`$x`).
#[derive(Debug, Clone)]
pub struct Decl {
    pub pos: Pos,
    pub name: Arc<str>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: Pos,
    pub is_assign: bool,
    pub decl: Vec<Decl>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub struct Command {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

/// A numeric constant, held under every type that can represent it (Go's ideal constants).
#[derive(Debug, Clone)]
pub struct Number {
    pub pos: Pos,
    pub text: Arc<str>,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub int: i64,
    pub uint: u64,
    pub float: f64,
}

#[derive(Debug)]
pub enum Arg {
    /// A function name.
    Identifier {
        pos: Pos,
        name: Arc<str>,
    },
    Dot {
        pos: Pos,
    },
    Nil {
        pos: Pos,
    },
    /// `$x.Field...`: the variable name (with `$`) first.
    Variable {
        pos: Pos,
        ident: Vec<Arc<str>>,
    },
    /// `.Field.Other`.
    Field {
        pos: Pos,
        ident: Vec<Arc<str>>,
    },
    /// `(pipeline).Field`, `fn.Field`.
    Chain {
        pos: Pos,
        node: Box<Arg>,
        fields: Vec<Arc<str>>,
    },
    Bool {
        pos: Pos,
        value: bool,
    },
    Number(Box<Number>),
    String {
        pos: Pos,
        quoted: Arc<str>,
        text: Arc<str>,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    /// The node Go's executor last marked (`s.at`) once this argument is evaluated, where it
    /// reports what goes wrong with the value: a pipeline's last argument, a chain's receiver's.
    pub fn last_evaluated(&self) -> &Arg {
        match self {
            Arg::Pipe(pipe) => match pipe.cmds.last() {
                Some(cmd) => match cmd.args.as_slice() {
                    [first] => first.last_evaluated(),
                    [.., last] => last.last_evaluated(),
                    [] => self,
                },
                None => self,
            },
            Arg::Chain { node, .. } => node.last_evaluated(),
            _ => self,
        }
    }

    pub fn pos(&self) -> Pos {
        match self {
            Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Variable { pos, .. }
            | Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Bool { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Number(number) => number.pos,
            Arg::Pipe(pipe) => pipe.pos,
        }
    }
}

fn join_idents(f: &mut fmt::Formatter<'_>, ident: &[Arc<str>]) -> fmt::Result {
    for (i, part) in ident.iter().enumerate() {
        if i > 0 {
            f.write_char('.')?;
        }
        f.write_str(part)?;
    }
    Ok(())
}

impl Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_char('.'),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Variable { ident, .. } => join_idents(f, ident),
            Arg::Field { ident, .. } => {
                for part in ident {
                    write!(f, ".{part}")?;
                }
                Ok(())
            }
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(pipe) = node.as_ref() {
                    write!(f, "({pipe})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number(number) => f.write_str(&number.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(pipe) => write!(f, "{pipe}"),
        }
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(pipe) = arg {
                write!(f, "({pipe})")?;
            } else {
                write!(f, "{arg}")?;
            }
        }
        Ok(())
    }
}

impl Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, decl) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&decl.name)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl Display for ListNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in &self.nodes {
            write!(f, "{node}")?;
        }
        Ok(())
    }
}

fn write_branch(f: &mut fmt::Formatter<'_>, keyword: &str, branch: &Branch) -> fmt::Result {
    write!(f, "{{{{{keyword} {}}}}}{}", branch.pipe, branch.list)?;
    if let Some(else_list) = &branch.else_list {
        write!(f, "{{{{else}}}}{else_list}")?;
    }
    f.write_str("{{end}}")
}

impl Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(branch) => write_branch(f, "if", branch),
            Node::Range(branch) => write_branch(f, "range", branch),
            Node::With(branch) => write_branch(f, "with", branch),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", crate::render::golang::quote(name))?;
                if let Some(pipe) = pipe {
                    write!(f, " {pipe}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_like_go() {
        let tree = Tree {
            name: "t".into(),
            parse_name: "file.yaml".into(),
            text: "ab\ncd{{ x }}".into(),
            root: ListNode::default(),
        };
        assert_eq!(tree.location(1), "file.yaml:1:1");
        assert_eq!(tree.location(5), "file.yaml:2:2");
    }
}

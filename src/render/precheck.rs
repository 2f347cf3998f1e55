//! Checks every template at publish time, so a pack's mistakes are findings with a line rather
//! than render errors: block balance first (naming the line where an unclosed block opens, which
//! Go's "unexpected EOF" does not), then Go's parser, reporting every unknown function rather than
//! the first.

use super::functions;
use super::gotemplate::ast::{Arg, ListNode, Node, Pipe, Tree};
use super::gotemplate::parse;

/// One problem with a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    pub line: u64,
    pub message: String,
}

/// All problems found in `source`; empty when the template can be rendered.
pub fn check(source: &str) -> Vec<TemplateProblem> {
    let mut problems = check_blocks(source);
    if !problems.is_empty() {
        return problems;
    }
    // Parsed with every function allowed, so that each unknown one is reported (Go stops at the
    // first).
    match parse::parse("template", source, &|_| true) {
        Ok(parsed) => {
            for tree in &parsed.trees {
                check_list(tree, &tree.root, &mut problems);
            }
        }
        Err(error) => problems.push(TemplateProblem {
            line: u64::from(error.line),
            message: error.message,
        }),
    }
    problems.sort_by_key(|p| p.line);
    problems
}

/// One `{{ ... }}` action: its first word and the line it starts on.
struct Action<'a> {
    keyword: &'a str,
    second: &'a str,
    line: u64,
}

/// Splits `source` into actions, honouring comments, quoted and raw strings inside actions.
fn actions(source: &str) -> Result<Vec<Action<'_>>, TemplateProblem> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut position = 0;
    let line_at =
        |offset: usize| source[..offset].bytes().filter(|b| *b == b'\n').count() as u64 + 1;
    while let Some(start) = source[position..].find("{{").map(|i| i + position) {
        let mut cursor = start + 2;
        if bytes.get(cursor) == Some(&b'-')
            && bytes.get(cursor + 1).is_some_and(u8::is_ascii_whitespace)
        {
            cursor += 1;
        }
        let body_start = cursor;
        let trimmed = source[cursor..].trim_start();
        if trimmed.starts_with("/*") {
            let comment_start = source.len() - trimmed.len();
            let Some(end) = source[comment_start..].find("*/") else {
                return Err(TemplateProblem {
                    line: line_at(start),
                    message: "comment is not closed".to_owned(),
                });
            };
            let after = comment_start + end + 2;
            let Some(close) = source[after..].find("}}") else {
                return Err(unclosed_action(line_at(start)));
            };
            position = after + close + 2;
            continue;
        }
        let mut quote: Option<u8> = None;
        let mut end = None;
        while cursor < bytes.len() {
            let b = bytes[cursor];
            match quote {
                Some(q) if b == b'\\' && q == b'"' => cursor += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'`' || b == b'\'' => quote = Some(b),
                None if b == b'}' && bytes.get(cursor + 1) == Some(&b'}') => {
                    end = Some(cursor);
                    break;
                }
                None => {}
            }
            cursor += 1;
        }
        let Some(end) = end else {
            return Err(unclosed_action(line_at(start)));
        };
        let body = source[body_start..end].trim().trim_end_matches('-').trim();
        let mut words = body.split_whitespace();
        found.push(Action {
            keyword: words.next().unwrap_or_default(),
            second: words.next().unwrap_or_default(),
            line: line_at(start),
        });
        position = end + 2;
    }
    Ok(found)
}

fn unclosed_action(line: u64) -> TemplateProblem {
    TemplateProblem {
        line,
        message: "action is not closed: '{{' without a matching '}}'".to_owned(),
    }
}

/// Checks that `if`/`range`/`with`/`define`/`block` and `end` pair up, and `else` sits inside one.
fn check_blocks(source: &str) -> Vec<TemplateProblem> {
    let actions = match actions(source) {
        Ok(actions) => actions,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    let mut open: Vec<(&str, u64)> = Vec::new();
    for action in actions {
        match action.keyword {
            "if" | "range" | "with" | "define" | "block" => {
                open.push((action.keyword, action.line))
            }
            "else" => match open.last() {
                Some((kind, _)) if matches!(*kind, "if" | "range" | "with") => {
                    if action.second == "if" && *kind != "if"
                        || action.second == "with" && *kind != "with"
                    {
                        problems.push(TemplateProblem {
                            line: action.line,
                            message: format!(
                                "{{{{ else {} }}}} inside {{{{ {kind} }}}}",
                                action.second
                            ),
                        });
                    }
                }
                _ => problems.push(TemplateProblem {
                    line: action.line,
                    message: "{{ else }} outside an if, range or with block".to_owned(),
                }),
            },
            "end" if open.pop().is_none() => problems.push(TemplateProblem {
                line: action.line,
                message: "{{ end }} without an open block".to_owned(),
            }),
            _ => {}
        }
    }
    for (kind, line) in open {
        problems.push(TemplateProblem {
            line,
            message: format!("{{{{ {kind} }}}} opened here is never closed with {{{{ end }}}}"),
        });
    }
    problems
}

fn check_list(tree: &Tree, list: &ListNode, problems: &mut Vec<TemplateProblem>) {
    for node in &list.nodes {
        match node {
            Node::Action { pipe, .. } => check_pipe(tree, pipe, problems),
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                check_pipe(tree, &branch.pipe, problems);
                check_list(tree, &branch.list, problems);
                if let Some(else_list) = &branch.else_list {
                    check_list(tree, else_list, problems);
                }
            }
            Node::Template {
                pipe: Some(pipe), ..
            } => check_pipe(tree, pipe, problems),
            Node::Template { .. }
            | Node::Text { .. }
            | Node::Break { .. }
            | Node::Continue { .. } => {}
        }
    }
}

fn check_pipe(tree: &Tree, pipe: &Pipe, problems: &mut Vec<TemplateProblem>) {
    for command in &pipe.cmds {
        for arg in &command.args {
            check_arg(tree, arg, problems);
        }
    }
}

fn line_of(tree: &Tree, pos: u32) -> u64 {
    let end = (pos as usize).min(tree.text.len());
    1 + tree.text[..end].bytes().filter(|b| *b == b'\n').count() as u64
}

fn check_arg(tree: &Tree, arg: &Arg, problems: &mut Vec<TemplateProblem>) {
    match arg {
        Arg::Identifier { pos, name } if !functions::is_known(name) => {
            problems.push(TemplateProblem {
                line: line_of(tree, *pos),
                message: format!("function {name:?} is not defined"),
            })
        }
        Arg::Pipe(pipe) => check_pipe(tree, pipe, problems),
        Arg::Chain { node, .. } => check_arg(tree, node, problems),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(source: &str) -> Vec<(u64, String)> {
        check(source)
            .into_iter()
            .map(|p| (p.line, p.message))
            .collect()
    }

    #[test]
    fn accepts_well_formed_templates() {
        let source = "a: {{ .Values.a | quote }}\n{{- if .Values.b }}\nb: {{ .Values.b }}\n{{- else if .Values.c }}\nc: 1\n{{- end }}\n{{/* a comment with }} inside */}}\n{{ range $k, $v := .Values.m }}{{ $k }}={{ $v | toJson }}{{ end }}\nx: \"{{ \"}}\" }}\"\n";
        assert_eq!(lines(source), vec![]);
    }

    #[test]
    fn finds_an_unclosed_block_at_the_end_of_the_file() {
        let found = lines("a: 1\n{{ if .Values.x }}\nb: 2\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
        assert!(found[0].1.contains("never closed"), "{found:?}");
    }

    #[test]
    fn finds_a_stray_end_and_a_typo_that_leaves_a_block_open() {
        let stray = lines("a: 1\n{{ end }}\n");
        assert_eq!(stray[0].0, 2);
        assert!(stray[0].1.contains("without an open block"));
        // `{- end}` is literal text, so the if stays open.
        let typo = lines("{{ if .Values.x }}\na: 1\n{- end}\n");
        assert_eq!(typo[0].0, 1);
    }

    #[test]
    fn finds_unknown_functions_with_their_line() {
        let found = lines("a: 1\nb: {{ .Values.b | toYml }}\nc: {{ includ \"x\" . }}\n");
        assert_eq!(
            found,
            vec![
                (2, "function \"toYml\" is not defined".to_owned()),
                (3, "function \"includ\" is not defined".to_owned())
            ]
        );
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        // (Go accepts a trailing `|`, so two are needed for a syntax error.)
        let found = lines("a: 1\nb: {{ .Values.b | | }}\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
    }
}

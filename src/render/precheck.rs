//! Checks every template before it is accepted for rendering, closing gaps in the engine: it parses
//! an unclosed `{{ if }}` at the end of a file and a stray `{{ end }}` without complaint, and it
//! reports an unknown function only when that function runs. Each problem is located by line.

use gotmpl::parse::{Expr, ListNode, Node, Parser, PipeNode};

use super::functions;

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
    match Parser::with_name(None, source, "{{", "}}").and_then(|parser| parser.parse()) {
        Ok((tree, defines)) => {
            check_list(&tree, &mut problems);
            for define in &defines {
                check_list(&define.body, &mut problems);
            }
        }
        Err(error) => {
            let (line, message) = match &error {
                gotmpl::TemplateError::Parse { line, message, .. }
                | gotmpl::TemplateError::Lex { line, message, .. } => {
                    (*line as u64, message.clone())
                }
                other => (1, other.to_string()),
            };
            problems.push(TemplateProblem { line, message });
        }
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

fn check_list(list: &ListNode, problems: &mut Vec<TemplateProblem>) {
    for node in &list.nodes {
        match node {
            Node::List(inner) => check_list(inner, problems),
            Node::Action(action) => check_pipe(&action.pipe, problems),
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                check_pipe(&branch.pipe, problems);
                check_list(&branch.body, problems);
                if let Some(else_body) = &branch.else_body {
                    check_list(else_body, problems);
                }
            }
            Node::Template(template) => {
                if let Some(pipe) = &template.pipe {
                    check_pipe(pipe, problems);
                }
            }
            Node::Define(define) => check_list(&define.body, problems),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

fn check_pipe(pipe: &PipeNode, problems: &mut Vec<TemplateProblem>) {
    for command in &pipe.commands {
        for arg in &command.args {
            check_expr(arg, problems);
        }
    }
}

fn check_expr(expr: &Expr, problems: &mut Vec<TemplateProblem>) {
    match expr {
        Expr::Identifier(pos, name) if !functions::is_known(name) => {
            problems.push(TemplateProblem {
                line: pos.line as u64,
                message: format!("function {name:?} is not defined"),
            })
        }
        Expr::Pipe(_, pipe) => check_pipe(pipe, problems),
        Expr::Chain(_, inner, _) => check_expr(inner, problems),
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
        let found = lines("a: 1\nb: {{ .Values.b | toYml }}\nc: {{ include \"x\" . }}\n");
        assert_eq!(
            found,
            vec![
                (2, "function \"toYml\" is not defined".to_owned()),
                (3, "function \"include\" is not defined".to_owned())
            ]
        );
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        let found = lines("a: 1\nb: {{ .Values.b | }}\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
    }
}

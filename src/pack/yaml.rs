//! YAML reading as Palette reads it.
//!
//! Palette's Go side (and Helm) read YAML 1.1, where unquoted `yes`/`no`/`on`/`off`/`y`/`n` are
//! booleans. packyard does the same, so a value renders as it would in Palette, and reports each such
//! scalar as a lint finding because YAML 1.2 tools read them as strings. Duplicate keys are accepted
//! (the last one wins, as in Helm) and reported.

use serde_json::Value;

use super::lint::Finding;

fn options(duplicates: serde_saphyr::DuplicateKeyPolicy) -> serde_saphyr::Options {
    // Comments are not needed, and buffering them made long comment runs a parse error
    // ("too many buffered comments while looking ahead") where go-yaml reads the file. The budget
    // still bounds hostile input (aliases, anchors, events), with room for the largest real values
    // files.
    serde_saphyr::options! {
        duplicate_keys: duplicates,
        emit_comments: false,
        budget: serde_saphyr::budget! {
            max_depth: 200,
            max_nodes: 1_000_000,
            max_events: 4_000_000,
        },
    }
}

/// Where a YAML error happened, as a line number when serde-saphyr knows it.
fn error_line(error: &serde_saphyr::Error) -> Option<u64> {
    error.location().map(|location| location.line())
}

/// A YAML parse failure, named by file and line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct YamlError {
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
}

impl YamlError {
    pub fn into_finding(self, code: &str) -> Finding {
        let mut finding = Finding::error(code, &self.file, self.message);
        finding.line = self.line;
        finding
    }
}

/// Parses one YAML document into a JSON-shaped value (map keys become strings, as in Helm).
/// Findings about duplicate keys and YAML 1.1 booleans are appended to `findings`.
pub fn parse(text: &str, file: &str, findings: &mut Vec<Finding>) -> Result<Value, YamlError> {
    let strict = serde_saphyr::from_str_with_options::<Value>(
        text,
        options(serde_saphyr::DuplicateKeyPolicy::Error),
    );
    let value = match strict {
        Ok(value) => value,
        Err(error) => match error.without_snippet() {
            serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
                let key = key.clone().unwrap_or_else(|| "a key".to_owned());
                let mut finding = Finding::warning(
                    "duplicate-key",
                    file,
                    format!("{key} appears twice in one mapping; the last one wins"),
                );
                finding.line = error_line(&error);
                findings.push(finding);
                serde_saphyr::from_str_with_options::<Value>(
                    text,
                    options(serde_saphyr::DuplicateKeyPolicy::LastWins),
                )
                .map_err(|e| yaml_error(file, &e))?
            }
            _ => return Err(yaml_error(file, &error)),
        },
    };
    report_yaml11_booleans(text, file, findings);
    Ok(value)
}

fn yaml_error(file: &str, error: &serde_saphyr::Error) -> YamlError {
    YamlError {
        file: file.to_owned(),
        line: error_line(error),
        message: error.without_snippet().to_string(),
    }
}

const YAML11_BOOLEANS: [&str; 6] = ["yes", "no", "on", "off", "y", "n"];

/// Reports plain (unquoted) `key: yes`-style values line by line. A textual scan is enough: the
/// finding is advice, and it must point at the line. Past the per-file bound only a count is kept
/// (a values file of a million `- y` lines must not make a million findings).
fn report_yaml11_booleans(text: &str, file: &str, findings: &mut Vec<Finding>) {
    let mut found = 0usize;
    for (index, line) in text.lines().enumerate() {
        let content = line.split(" #").next().unwrap_or_default().trim_end();
        let scalar = content
            .trim_start()
            .strip_prefix("- ")
            .map(str::trim)
            .or_else(|| content.split_once(": ").map(|(_, value)| value.trim()));
        if let Some(scalar) = scalar
            && YAML11_BOOLEANS
                .iter()
                .any(|word| scalar.eq_ignore_ascii_case(word))
        {
            found += 1;
            if found > super::lint::MAX_PER_CODE_AND_FILE {
                continue;
            }
            findings.push(
                Finding::warning(
                    "yaml11-boolean",
                    file,
                    format!(
                        "unquoted {scalar:?} is read as a boolean (YAML 1.1, as Palette and Helm read it); quote it if a string is meant"
                    ),
                )
                .at_line(index as u64 + 1),
            );
        }
    }
    if found > super::lint::MAX_PER_CODE_AND_FILE {
        findings.push(super::lint::omitted(
            file,
            Some("yaml11-boolean"),
            found - super::lint::MAX_PER_CODE_AND_FILE,
        ));
    }
}

/// Parses one YAML document into `T` (fields `T` does not name are skipped without being built),
/// duplicate keys allowed (the last wins), as Helm reads a document's head.
pub fn parse_as<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options::<T>(
        text,
        options(serde_saphyr::DuplicateKeyPolicy::LastWins),
    )
    .map_err(|e| yaml_error(file, &e))
}

/// Serialises a value back to YAML (used for values shown to people and for caller values).
pub fn to_string(value: &Value) -> Result<String, serde_saphyr::ser::Error> {
    serde_saphyr::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_are_booleans_and_reported() {
        let mut findings = Vec::new();
        let value = parse("a: yes\nb: 'yes'\nc: off\n", "values.yaml", &mut findings).unwrap();
        assert_eq!(value["a"], Value::Bool(true));
        assert_eq!(value["b"], Value::String("yes".into()));
        assert_eq!(value["c"], Value::Bool(false));
        let lines: Vec<_> = findings.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![Some(1), Some(3)]);
    }

    #[test]
    fn duplicate_keys_are_accepted_and_reported_with_a_line() {
        let mut findings = Vec::new();
        let value = parse("a: 1\nb: 2\na: 3\n", "values.yaml", &mut findings).unwrap();
        assert_eq!(value["a"], 3);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, "duplicate-key");
        assert_eq!(findings[0].line, Some(3));
    }

    #[test]
    fn long_runs_of_comments_parse_as_go_yaml_reads_them() {
        let mut text = String::from("a:\n");
        for i in 0..500 {
            text.push_str(&format!("  # comment {i}\n"));
        }
        text.push_str("  b: 1\n");
        let mut findings = Vec::new();
        let value = parse(&text, "values.yaml", &mut findings).unwrap();
        assert_eq!(value["a"]["b"], 1);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let mut findings = Vec::new();
        let error = parse("a: 1\nb: [unclosed\n", "values.yaml", &mut findings).unwrap_err();
        assert_eq!(error.file, "values.yaml");
        assert!(error.line.is_some());
    }
}

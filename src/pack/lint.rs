//! Lint findings: problems Palette lets through, stored with the version and returned on publish.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Findings kept per code and file; the rest are counted in one `findings-omitted` finding.
pub const MAX_PER_CODE_AND_FILE: usize = 20;
/// Bytes of findings (as JSON) kept and returned per version.
pub const MAX_FINDINGS_BYTES: usize = 64 << 10;
/// The longest message a finding keeps.
const MAX_MESSAGE: usize = 1024;
/// The code of the finding that counts what was left out.
pub const OMITTED: &str = "findings-omitted";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; the pack works as published.
    Warning,
    /// Part of the pack will not work (for example a manifest that cannot render).
    Error,
}

/// One finding, located by file and (when known) line and field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Finding {
    pub fn warning(code: &str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            code: code.to_owned(),
            severity: Severity::Warning,
            file: file.to_owned(),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn error(code: &str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            ..Finding::warning(code, file, message)
        }
    }

    pub fn at_line(mut self, line: u64) -> Finding {
        self.line = Some(line);
        self
    }

    pub fn at_field(mut self, field: impl Into<String>) -> Finding {
        self.field = Some(field.into());
        self
    }

    /// `file:line: message`, the form used in error messages.
    pub fn located_message(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{}: {}", self.file, line, self.message),
            None => format!("{}: {}", self.file, self.message),
        }
    }
}

/// A finding that counts `count` findings of `code` (or of every code) left out.
pub fn omitted(file: &str, code: Option<&str>, count: usize) -> Finding {
    let what = match code {
        Some(code) => format!("{code} findings"),
        None => "findings".to_owned(),
    };
    let mut finding =
        Finding::warning(OMITTED, file, format!("{count} more {what} are not listed"));
    finding.field = code.map(str::to_owned);
    finding
}

fn truncate_message(mut finding: Finding) -> Finding {
    if finding.message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !finding.message.is_char_boundary(end) {
            end -= 1;
        }
        finding.message.truncate(end);
        finding.message.push('…');
    }
    finding
}

/// Bounds a version's findings: at most [`MAX_PER_CODE_AND_FILE`] per code and file (plus one
/// `findings-omitted` per group saying how many were left out), and at most [`MAX_FINDINGS_BYTES`]
/// of JSON in all (errors first, then the rest in order, then one final `findings-omitted`).
pub fn bound(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut kept = Vec::new();
    for finding in findings {
        let count = seen
            .entry((finding.code.clone(), finding.file.clone()))
            .or_default();
        *count += 1;
        if *count <= MAX_PER_CODE_AND_FILE {
            kept.push(truncate_message(finding));
        }
    }
    let mut groups: Vec<((String, String), usize)> = seen
        .into_iter()
        .filter(|(_, count)| *count > MAX_PER_CODE_AND_FILE)
        .collect();
    groups.sort();
    for ((code, file), count) in groups {
        kept.push(omitted(&file, Some(&code), count - MAX_PER_CODE_AND_FILE));
    }
    // Errors first when the byte bound bites: they say what will not work.
    kept.sort_by_key(|f| f.severity != Severity::Error);
    let mut bytes = 2;
    let mut result = Vec::with_capacity(kept.len());
    let total = kept.len();
    for finding in kept {
        let size = serde_json::to_vec(&finding).map_or(MAX_MESSAGE, |v| v.len()) + 1;
        if bytes + size > MAX_FINDINGS_BYTES - 256 {
            let left = total - result.len();
            result.push(omitted("", None, left));
            return result;
        }
        bytes += size;
        result.push(finding);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_bounded_per_code_and_file_and_in_bytes() {
        let mut findings: Vec<Finding> = (0..1000)
            .map(|i| Finding::warning("yaml11-boolean", "values.yaml", "y").at_line(i))
            .collect();
        findings.push(Finding::error(
            "template-invalid",
            "manifests/a.yaml",
            "bad",
        ));
        let bounded = bound(findings);
        assert_eq!(bounded[0].code, "template-invalid");
        let booleans = bounded
            .iter()
            .filter(|f| f.code == "yaml11-boolean")
            .count();
        assert_eq!(booleans, MAX_PER_CODE_AND_FILE);
        let summary = bounded.iter().find(|f| f.code == OMITTED).unwrap();
        assert_eq!(summary.field.as_deref(), Some("yaml11-boolean"));
        assert!(
            summary.message.starts_with("980 more"),
            "{}",
            summary.message
        );

        let many_files: Vec<Finding> = (0..5000)
            .map(|i| {
                Finding::warning(
                    "manifest-unlisted",
                    &format!("manifests/{i}.yaml"),
                    "x".repeat(300),
                )
            })
            .collect();
        let bounded = bound(many_files);
        let bytes = serde_json::to_vec(&bounded).unwrap().len();
        assert!(bytes <= MAX_FINDINGS_BYTES, "{bytes}");
        assert_eq!(bounded.last().unwrap().code, OMITTED);
    }
}

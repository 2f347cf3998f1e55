//! Lint findings: problems Palette lets through, stored with the version and returned on publish.

use serde::{Deserialize, Serialize};

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

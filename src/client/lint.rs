//! `packyard lint ./my-pack`: the findings a publish would return for a pack folder or archive,
//! one per line; the exit status is 1 when any is an error (what `helm lint` is to a chart).

use std::path::PathBuf;

use clap::Args;

use crate::registry::offline;

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// A pack folder or a pack archive (tar.gz).
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("{0}")]
    Refused(String),
    #[error("{errors} error(s) found")]
    Errors { errors: usize },
}

/// Prints the findings; fails when the pack would be refused or has errors.
pub fn run(args: LintArgs) -> Result<(), LintError> {
    let findings = offline::findings(&args.path).map_err(|e| LintError::Refused(e.to_string()))?;
    let mut errors = 0;
    let mut text = String::new();
    for finding in &findings {
        let severity = format!("{:?}", finding.severity).to_lowercase();
        if severity == "error" {
            errors += 1;
        }
        text.push_str(&format!(
            "{severity}: {} [{}]\n",
            finding.located_message(),
            finding.code
        ));
    }
    text.push_str(&format!(
        "{}: {} finding(s), {errors} error(s)\n",
        args.path.display(),
        findings.len()
    ));
    print!("{text}");
    if errors > 0 {
        return Err(LintError::Errors { errors });
    }
    Ok(())
}

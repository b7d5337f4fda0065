//! Talking back to the runner: step outputs (`GITHUB_OUTPUT`), the job summary
//! (`GITHUB_STEP_SUMMARY`), and masking secrets in the log (`::add-mask::`).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{AppError, Result};

/// Where the runner wants outputs and the summary; both absent outside Actions.
#[derive(Debug, Clone, Default)]
pub struct RunnerFiles {
    pub output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
}

impl RunnerFiles {
    /// Append `name=value` lines (the multi-line form when a value has a newline).
    pub fn set_outputs(&self, outputs: &[(&str, String)]) -> Result<()> {
        let Some(path) = &self.output else {
            for (name, value) in outputs {
                println!("output {name}={value}");
            }
            return Ok(());
        };
        let mut text = String::new();
        for (name, value) in outputs {
            text.push_str(&output_line(name, value));
        }
        append(path, &text)
    }

    /// Append markdown to the job summary (printed to stdout outside Actions).
    pub fn add_summary(&self, markdown: &str) -> Result<()> {
        match &self.step_summary {
            Some(path) => append(path, &format!("{}\n", markdown.trim_end())),
            None => {
                println!("{markdown}");
                Ok(())
            }
        }
    }
}

fn output_line(name: &str, value: &str) -> String {
    if value.contains('\n') || value.contains('\r') {
        let mut delimiter = "ghadelimiter_migration_gate".to_string();
        while value.contains(&delimiter) {
            delimiter.push('_');
        }
        format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
    } else {
        format!("{name}={value}\n")
    }
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| AppError::usage(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| AppError::usage(format!("cannot write {}: {e}", path.display())))
}

/// `::add-mask::` lines for every non-empty secret, so the runner hides them in the log.
pub fn mask_commands<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    secrets
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("::add-mask::{}", escape_command_data(s)))
        .collect()
}

/// The runner unescapes a command's data (`%25`, `%0D`, `%0A`), so a secret holding those
/// characters is masked as written.
fn escape_command_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_append_in_runner_format() {
        let dir = tempfile::tempdir().unwrap();
        let files = RunnerFiles {
            output: Some(dir.path().join("out")),
            step_summary: Some(dir.path().join("summary")),
        };
        files
            .set_outputs(&[("applied-count", "2".into()), ("note", "a\nb".into())])
            .unwrap();
        files
            .set_outputs(&[("needs-review", "false".into())])
            .unwrap();
        let written = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert_eq!(
            written,
            "applied-count=2\nnote<<ghadelimiter_migration_gate\na\nb\nghadelimiter_migration_gate\nneeds-review=false\n"
        );
        files.add_summary("# one").unwrap();
        files.add_summary("# two\n\n").unwrap();
        let summary = std::fs::read_to_string(dir.path().join("summary")).unwrap();
        assert_eq!(summary, "# one\n# two\n");
    }

    #[test]
    fn masks_skip_empty_secrets() {
        assert_eq!(
            mask_commands(["s3cret", "", "  ", "50%off"]),
            vec![
                "::add-mask::s3cret".to_string(),
                "::add-mask::50%25off".to_string()
            ]
        );
    }
}

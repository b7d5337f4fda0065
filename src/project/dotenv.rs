//! `.env` files, read the way the Prisma CLI reads them, so `DATABASE_URL` in a Prisma project's
//! `.env` works without exporting it: `./.env`, then `./prisma/.env` (the folder of
//! `prisma/schema.prisma`). The real environment always wins, over every variable of the files; a
//! variable set in both files is an error, as in Prisma ("There is a conflict between env vars").
//!
//! The syntax is dotenv's: `KEY=value` or `export KEY=value`, `#` comment lines, `#` after an
//! unquoted value starts a comment, values in `'...'`, `"..."` (with `\n` escapes) or `` `...` ``
//! may span lines, and `${VAR}` / `$VAR` expand in unquoted and double-quoted values (Prisma
//! runs dotenv-expand), `\$` being a literal `$`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::discover::{display_path, read_utf8};
use crate::error::{AppError, Result};

/// The files Prisma's CLI reads, in its order.
const FILES: &[&str] = &[".env", "prisma/.env"];

/// A variable found by [`first_set`], and the file it came from (`None`: the real environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    pub name: &'a str,
    pub value: String,
    pub file: Option<PathBuf>,
}

impl Found<'_> {
    /// `DATABASE_URL`, or `DATABASE_URL (from prisma/.env)`, for error messages: a variable
    /// that only a file sets cannot be found in the shell.
    pub fn describe(&self) -> String {
        match &self.file {
            Some(file) => format!("{} (from {})", self.name, display_path(file)),
            None => self.name.to_string(),
        }
    }
}

/// The first of `names` set (and not empty) in the real environment, else the first set in the
/// `.env` files of the working directory. Any variable of the real environment beats every file,
/// whatever the order of `names`: a `.env` committed by mistake must not redirect a deploy whose
/// CI secret is `DATABASE_URL` to the file's `DIRECT_URL`.
pub fn first_set<'a>(names: &[&'a str]) -> Result<Option<Found<'a>>> {
    let from_environment = names.iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.is_empty())
            .map(|value| Found {
                name,
                value,
                file: None,
            })
    });
    if from_environment.is_some() {
        return Ok(from_environment);
    }
    let files = FILES.iter().map(PathBuf::from).collect::<Vec<_>>();
    let mut from_files = load_with_origin(&files)?;
    Ok(names.iter().find_map(|name| {
        from_files
            .remove(*name)
            .filter(|(value, _)| !value.is_empty())
            .map(|(value, file)| Found {
                name,
                value,
                file: Some(file),
            })
    }))
}

/// The variables of the existing `files`, expanded; a name defined in two files is an error.
#[cfg(test)]
fn load(files: &[PathBuf]) -> Result<BTreeMap<String, String>> {
    Ok(load_with_origin(files)?
        .into_iter()
        .map(|(name, (value, _))| (name, value))
        .collect())
}

/// [`load`], with the file each variable came from.
fn load_with_origin(files: &[PathBuf]) -> Result<BTreeMap<String, (String, PathBuf)>> {
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut first_file: Option<&Path> = None;
    for path in files.iter().filter(|p| p.is_file()) {
        let entries = parse(&read_utf8(path)?);
        if let Some(first) = first_file {
            let clashing: Vec<&str> = entries
                .iter()
                .filter(|e| merged.contains_key(&e.key))
                .map(|e| e.key.as_str())
                .collect();
            if !clashing.is_empty() {
                return Err(AppError::usage(format!(
                    "{} and {} both set {}: keep each variable in one file (Prisma refuses this too)",
                    display_path(first),
                    display_path(path),
                    clashing.join(", ")
                )));
            }
        } else {
            first_file = Some(path);
        }
        for entry in entries {
            let value = if entry.expand {
                expand(&entry.value, &merged)
            } else {
                entry.value
            };
            origin.insert(entry.key.clone(), path.clone());
            merged.insert(entry.key, value);
        }
    }
    Ok(merged
        .into_iter()
        .map(|(name, value)| {
            let file = origin.remove(&name).unwrap_or_default();
            (name, (value, file))
        })
        .collect())
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    key: String,
    value: String,
    /// False for single-quoted and backtick-quoted values, which are taken literally.
    expand: bool,
}

/// The `KEY=value` lines of one file, in order. Lines that are not assignments are skipped, as
/// dotenv skips them.
fn parse(text: &str) -> Vec<Entry> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = after;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export")
            .filter(|rest| rest.starts_with(char::is_whitespace))
            .map_or(line, str::trim_start);
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let key = line[..split].trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            continue;
        }
        let value_start = line[split + 1..].trim_start();
        let quote = value_start
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'));
        let (value, expand) = match quote {
            Some(quote) => {
                // A quoted value may run over the following lines up to its closing quote.
                let body = &value_start[1..];
                let joined;
                let (inside, remainder) = match body.find(quote) {
                    Some(end) => (&body[..end], None),
                    None => {
                        joined = format!("{body}\n{rest}");
                        match joined.find(quote) {
                            Some(end) => (&joined[..end], Some(end - body.len() - 1)),
                            // Unclosed: dotenv takes the line as an unquoted value.
                            None => (value_start.trim_end(), None),
                        }
                    }
                };
                let value = if quote == '"' {
                    inside.replace("\\n", "\n").replace("\\r", "\r")
                } else {
                    inside.to_string()
                };
                if let Some(consumed) = remainder {
                    rest = rest[consumed + 1..]
                        .split_once('\n')
                        .map_or("", |(_, next)| next);
                }
                (value, quote == '"')
            }
            None => {
                let unquoted = value_start.split('#').next().unwrap_or("");
                (unquoted.trim().to_string(), true)
            }
        };
        entries.push(Entry {
            key: key.to_string(),
            value,
            expand,
        });
    }
    entries
}

/// `${VAR}` and `$VAR` from the environment, else from the variables read so far.
fn expand(value: &str, known: &BTreeMap<String, String>) -> String {
    let lookup = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| known.get(name).cloned())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let mut chars = value.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' if value[at + 1..].starts_with('$') => {
                out.push('$');
                chars.next();
            }
            '$' if value[at + 1..].starts_with('{') => match value[at + 2..].find('}') {
                Some(len) => {
                    out.push_str(&lookup(&value[at + 2..at + 2 + len]));
                    while chars.peek().is_some_and(|(i, _)| *i <= at + 2 + len) {
                        chars.next();
                    }
                }
                None => out.push(c),
            },
            '$' => {
                let name: String = value[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name.is_empty() {
                    out.push(c);
                } else {
                    out.push_str(&lookup(&name));
                    for _ in 0..name.len() {
                        chars.next();
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(String, String)> {
        parse(text).into_iter().map(|e| (e.key, e.value)).collect()
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    #[test]
    fn dotenv_syntax() {
        let text = "# a comment\n\
                    export DATABASE_URL=\"postgresql://u:p@db:5432/app?schema=public\"\n\
                    DIRECT_URL = postgres://u@direct/app # the direct one\n\
                    SINGLE='lit $HOME # not a comment'\n\
                    MULTI=\"line1\\nline2\"\n\
                    SPANNING='a\nb'\n\
                    EMPTY=\n\
                    not an assignment\n\
                    COLON: value\n";
        assert_eq!(
            values(text),
            [
                pair("DATABASE_URL", "postgresql://u:p@db:5432/app?schema=public"),
                pair("DIRECT_URL", "postgres://u@direct/app"),
                pair("SINGLE", "lit $HOME # not a comment"),
                pair("MULTI", "line1\nline2"),
                pair("SPANNING", "a\nb"),
                pair("EMPTY", ""),
                pair("COLON", "value"),
            ]
        );
    }

    #[test]
    fn export_may_be_followed_by_any_whitespace() {
        assert_eq!(
            values("export\tDATABASE_URL=postgres://a\nexport  DIRECT_URL=postgres://b\n"),
            [
                pair("DATABASE_URL", "postgres://a"),
                pair("DIRECT_URL", "postgres://b")
            ]
        );
    }

    #[test]
    fn expansion_uses_earlier_variables_and_keeps_escaped_dollars() {
        let mut known = BTreeMap::new();
        known.insert("MG_TEST_HOST".to_string(), "db.internal".to_string());
        assert_eq!(
            expand(
                "postgres://u:p\\$w@${MG_TEST_HOST}:5432/$MG_TEST_HOST",
                &known
            ),
            "postgres://u:p$w@db.internal:5432/db.internal"
        );
    }

    #[test]
    fn a_variable_in_both_files_is_an_error_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".env");
        let prisma = dir.path().join("prisma.env");
        std::fs::write(&root, "DATABASE_URL=postgres://a\nOTHER=1\n").unwrap();
        std::fs::write(&prisma, "DATABASE_URL=postgres://b\n").unwrap();
        let err = load(&[root.clone(), prisma.clone()]).unwrap_err();
        assert!(
            err.message.contains("both set DATABASE_URL"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("postgres://"), "{}", err.message);
        std::fs::write(&prisma, "DIRECT_URL=postgres://c\n").unwrap();
        let merged = load(&[root, prisma]).unwrap();
        assert_eq!(merged["DATABASE_URL"], "postgres://a");
        assert_eq!(merged["DIRECT_URL"], "postgres://c");
    }
}

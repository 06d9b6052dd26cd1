//! A problem in an input file (repo.yaml), located by file, line and column, with a hint for
//! the fix. A leaf: `config` makes them, the printer shows them.
use camino::Utf8PathBuf;
use std::fmt;

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: u64,
    pub col: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: Utf8PathBuf,
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &camino::Utf8Path, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic { file: file.to_owned(), pos, message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.pos.line, self.pos.col, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one configuration file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} problem(s) in {}", .0.len(), .0.first().map(|d| d.file.as_str()).unwrap_or("the configuration"))]
pub struct Diagnostics(pub Vec<Diagnostic>);

//! Scenario errors: where (file, line, column), which key, and the fix.

use std::fmt;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ScenarioError {
    /// File path, or `builtin:NAME`.
    pub origin: String,
    pub line: usize,
    pub column: usize,
    /// Dotted key, when known.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.origin)?;
        } else {
            write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)
    }
}

/// What a section's validation found wrong: the dotted key, what is wrong
/// with the fix, and where in the file when the section knows better than
/// its own start. The one error type of every section's `validate`; the
/// [`Locator`] turns it into a [`ScenarioError`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    pub key: String,
    pub message: String,
    pub at: Option<usize>,
}

impl Invalid {
    pub(crate) fn new(key: String, message: String) -> Self {
        Invalid {
            key,
            message,
            at: None,
        }
    }

    /// Its key under `prefix` (`checks.status` under `flow.steps[2]`).
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.key = format!("{prefix}.{}", self.key);
        self
    }

    /// At byte `offset` of the file (a table's start), unless it already
    /// says where.
    pub(crate) fn or_at(mut self, offset: usize) -> Self {
        self.at.get_or_insert(offset);
        self
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Builds errors for one source text.
pub struct Locator<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

impl Locator<'_> {
    /// `e`, placed at its own offset or else at its section's, `section_at`.
    pub(crate) fn invalid(&self, section_at: usize, e: Invalid) -> ScenarioError {
        self.at(e.at.unwrap_or(section_at), &e.key, e.message)
    }

    pub fn at(&self, offset: usize, key: &str, message: impl Into<String>) -> ScenarioError {
        let (line, column) = line_col(self.text, offset);
        ScenarioError {
            origin: self.origin.to_string(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 4));
        assert_eq!(line_col(t, 999), (3, 1));
    }
}

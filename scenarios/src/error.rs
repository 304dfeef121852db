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

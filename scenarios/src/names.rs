//! What a scenario may call the things it names.

/// A name a scenario gives (a named cache, a flow variable): letters,
/// digits, `_` and `-`.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

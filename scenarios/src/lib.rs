//! Scenario files (TOML) and their validation into an immutable `Scenario`:
//! the built-ins (baseline, stress, spike, soak) and user files, with errors
//! that name the file, line, key and fix.
//!
//! May depend on `genbench-model` only; never on the engine, collectors or
//! reports, so a scenario can be checked without running anything.

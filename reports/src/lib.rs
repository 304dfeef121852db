//! Pure renderers from serialized results to bytes: HTML, Markdown and JUnit
//! XML reports, the comparison of N runs, and the regression gate.
//!
//! Reads only `genbench-model` types deserialized from `results.json`, so it
//! must depend on nothing but `genbench-model`.

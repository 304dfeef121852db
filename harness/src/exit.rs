//! Exit codes of the CLI contract, and errors that carry one.

/// An error with the exit code it should end the process with.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Exit {
    pub const OK: u8 = 0;
    pub const FAILED_CHECKS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const COULD_NOT_RUN: u8 = 3;

    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Exit {
            code: Self::USAGE,
            error: error.into(),
        }
    }

    pub fn could_not_run(error: impl Into<anyhow::Error>) -> Self {
        Exit {
            code: Self::COULD_NOT_RUN,
            error: error.into(),
        }
    }
}

//! The analyses that turn a run into a verdict: the leak slope (soak), the
//! maximum sustainable rate and knee (stress), burst behaviour and
//! recovery (spike), and, for capacity by search, which load to probe next
//! and whether a probe is over-saturated. Pure functions of what was
//! measured.

pub mod capacity;
pub mod leak;
pub mod saturation;
pub mod search;
pub mod spike;
pub mod stats;
pub mod windows;

pub use capacity::{StepMeasure, capacity};
pub use leak::{LeakInput, leak, window_floors};
pub use spike::{SpikeMeasure, spike};
pub use windows::{Window, WindowSet};

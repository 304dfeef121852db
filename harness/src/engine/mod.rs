//! The load engine: when to send (schedule), what to send (requests drawn
//! from datasets), and — in the engine issue's next steps — sending and
//! recording.

pub mod requests;
pub mod schedule;

//! The load engine: when to send (schedule), what to send (requests drawn
//! from datasets), sending and measuring (sender), the open model's workers,
//! and the aggregation of their recordings.

pub mod aggregate;
pub mod backoff;
pub mod chunked;
mod chunks;
pub mod clock;
pub mod closed;
pub mod flow;
mod flow_run;
pub mod h1;
mod h1_send;
mod h2_send;
pub mod inspect;
mod launch;
pub mod llm;
pub mod open;
mod paths;
pub mod replay;
pub mod requests;
pub mod schedule;
pub mod segment;
pub mod sender;
mod sender_error;
mod slot;
mod wire;
pub mod workers;

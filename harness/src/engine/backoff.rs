//! Backing off a target that does not take connections: a closed-model
//! user with no think time resends the moment a connection is refused, so
//! a dead target would get tens of thousands of attempts a second, nearly
//! all of the run's "requests", and none of them measure anything. Each
//! worker waits before its users' next send after a failed connection:
//! 10 ms, doubling to at most 1 s while they keep failing, and nothing once
//! one connects. The open model keeps its schedule: its rate is the load
//! the scenario asks for, dead target or not.

use std::time::Duration;

use genbench_collectors::Outcome;
use genbench_model::ErrorKind;

pub const FIRST: Duration = Duration::from_millis(10);
pub const MAX: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Backoff {
    /// The wait after the next failed connection; zero: none failed since
    /// the last success.
    next: Duration,
}

impl Backoff {
    /// The wait before the send that follows an answer with `outcome`.
    pub fn after(&mut self, outcome: Outcome) -> Duration {
        match outcome {
            Outcome::Error(ErrorKind::Connect) => {
                let wait = self.next.max(FIRST);
                self.next = (wait * 2).min(MAX);
                wait
            }
            Outcome::Ok(_) => {
                self.next = Duration::ZERO;
                Duration::ZERO
            }
            // The target answered, or at least took the connection.
            Outcome::Error(_) | Outcome::Abandoned(_) => {
                self.next = Duration::ZERO;
                Duration::ZERO
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_to_a_second_and_reset_on_an_answer() {
        let mut b = Backoff::default();
        let refused = Outcome::Error(ErrorKind::Connect);
        let waits: Vec<u64> = (0..10)
            .map(|_| b.after(refused).as_millis() as u64)
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert_eq!(b.after(Outcome::Ok(200)), Duration::ZERO);
        assert_eq!(b.after(refused), FIRST);
        assert_eq!(
            b.after(Outcome::Error(ErrorKind::Server5xx)),
            Duration::ZERO
        );
        assert_eq!(b.after(refused), FIRST);
    }
}

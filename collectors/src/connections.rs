//! New connections, measured apart from requests: how long DNS plus TCP
//! connect and the TLS handshake took, how many resumed a TLS session, how
//! many attempts failed. A run whose latency jumps because the target keeps
//! closing connections shows it here instead of hiding it in request time.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::histogram::new_histogram;

/// One connection attempt, as the engine measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnEvent {
    Opened {
        /// DNS resolution and TCP connect.
        connect: Duration,
        /// The TLS handshake, on TLS connections.
        tls: Option<Duration>,
        /// The TLS session was resumed (no full handshake).
        resumed: bool,
    },
    Failed,
}

/// Connection set-up over an interval or a run; merges exactly.
#[derive(Debug, Clone)]
pub struct ConnStats {
    pub opened: u64,
    pub resumed: u64,
    pub failed: u64,
    pub connect_us: Histogram<u64>,
    pub tls_us: Histogram<u64>,
}

impl Default for ConnStats {
    fn default() -> Self {
        ConnStats {
            opened: 0,
            resumed: 0,
            failed: 0,
            connect_us: new_histogram(),
            tls_us: new_histogram(),
        }
    }
}

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

impl ConnStats {
    pub fn record(&mut self, e: ConnEvent) {
        match e {
            ConnEvent::Opened {
                connect,
                tls,
                resumed,
            } => {
                self.opened += 1;
                self.resumed += u64::from(resumed);
                self.connect_us.saturating_record(us(connect));
                if let Some(t) = tls {
                    self.tls_us.saturating_record(us(t));
                }
            }
            ConnEvent::Failed => self.failed += 1,
        }
    }

    pub fn merge(&mut self, other: &ConnStats) {
        self.opened += other.opened;
        self.resumed += other.resumed;
        self.failed += other.failed;
        let _ = self.connect_us.add(&other.connect_us);
        let _ = self.tls_us.add(&other.tls_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opened_failed_and_resumed_connections_are_counted_and_merge() {
        let ms = Duration::from_millis;
        let mut a = ConnStats::default();
        a.record(ConnEvent::Opened {
            connect: ms(2),
            tls: Some(ms(9)),
            resumed: false,
        });
        a.record(ConnEvent::Failed);
        let mut b = ConnStats::default();
        b.record(ConnEvent::Opened {
            connect: ms(1),
            tls: Some(ms(3)),
            resumed: true,
        });
        b.record(ConnEvent::Opened {
            connect: ms(1),
            tls: None,
            resumed: false,
        });
        a.merge(&b);
        assert_eq!((a.opened, a.resumed, a.failed), (3, 1, 1));
        assert_eq!(a.connect_us.len(), 3);
        assert_eq!(a.tls_us.len(), 2);
        assert_eq!(a.tls_us.max() / 1000, 9);
    }
}

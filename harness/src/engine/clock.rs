//! Precise waits. tokio's timer fires on whole-millisecond ticks and usually
//! 1–2 ms late; in the open model that lateness would count as the target's
//! latency (it is measured from the scheduled time). So the engine sleeps on
//! the timer until shortly before a send and yields its way to the deadline.

use std::time::Duration;

use tokio::time::Instant;

/// How long before a deadline the coarse timer hands over to yielding.
/// Covers the timer's usual lateness; costs CPU only within the window.
pub const SPIN_WINDOW: Duration = Duration::from_micros(2500);

pub async fn sleep_until_precise(deadline: Instant) {
    if let Some(coarse) = deadline.checked_sub(SPIN_WINDOW)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_at_the_deadline_not_a_tick_later() {
        let mut late = Vec::new();
        for i in 0..20u64 {
            let deadline = Instant::now() + Duration::from_micros(3_000 + i * 137);
            sleep_until_precise(deadline).await;
            late.push(Instant::now() - deadline);
        }
        late.sort();
        // Never early; typically within tens of microseconds. The bound is
        // loose because test machines are shared.
        assert!(
            late[10] < Duration::from_micros(500),
            "median lateness {:?}",
            late[10]
        );
    }
}

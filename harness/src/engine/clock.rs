//! Precise waits. tokio's timer fires on whole-millisecond ticks and usually
//! 1–2 ms late; in the open model that lateness would count as the target's
//! latency (it is measured from the scheduled time).
//!
//! [`Pacer`] waits on a Linux `timerfd`, a high-resolution kernel timer the
//! tokio reactor watches like any socket: the worker sleeps until the
//! deadline, so a pacer costs one syscall and one wake-up per send whatever
//! the rate (BENCHMARKS.md, "Open-model pacing"). Waking takes time (tens of
//! microseconds on these VMs, more from deep idle), so the pacer learns how
//! late its wakes usually come at least (a low quantile), arms the timer
//! that much early and yields through the rest: sends leave on time, and
//! the CPU spent waiting is about the wake's jitter. A wait shorter than a wake is yielded through entirely,
//! which is what happens at tens of thousands of sends per second. Elsewhere,
//! or if the kernel refuses a timerfd, it falls back to
//! [`sleep_until_precise`].

use std::time::Duration;

use tokio::time::Instant;

/// How long before a deadline the coarse timer hands over to yielding, in
/// [`sleep_until_precise`]. Covers the timer's usual lateness; costs CPU
/// only within the window.
pub const SPIN_WINDOW: Duration = Duration::from_micros(2500);

/// Waits shorter than this (beyond the learnt wake lateness) are yielded
/// through rather than slept: arming a timer and waking costs about this much.
pub const PACER_SPIN: Duration = Duration::from_micros(20);

/// The most the pacer arms early, however late wakes have come: a machine
/// that stalls for milliseconds is not made up for by spinning.
pub const MAX_EARLY: Duration = Duration::from_micros(200);

/// How far one wake moves the early margin (see [`Pacer::learn`]).
const EARLY_STEP: Duration = Duration::from_micros(1);

/// Sleeps on tokio's timer until [`SPIN_WINDOW`] before the deadline and
/// yields its way to it: precise, but a core stays busy within the window.
pub async fn sleep_until_precise(deadline: Instant) {
    if let Some(coarse) = deadline.checked_sub(SPIN_WINDOW)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse).await;
    }
    spin_until(deadline).await;
}

async fn spin_until(deadline: Instant) {
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// One worker's precise timer. Not shared: each open-model worker owns one.
pub struct Pacer {
    #[cfg(target_os = "linux")]
    fd: Option<timerfd::TimerFd>,
    /// How late kernel wakes come at least, most of the time (a low
    /// quantile): the timer is armed this much before the deadline.
    early: Duration,
    /// The deadline the timer is armed for (it fires `early` before it).
    armed: Option<Instant>,
}

impl Pacer {
    /// Must be called inside a tokio runtime (the timer registers with its
    /// reactor).
    pub fn new() -> Self {
        Pacer {
            #[cfg(target_os = "linux")]
            fd: match timerfd::TimerFd::new() {
                Ok(fd) => Some(fd),
                Err(e) => {
                    tracing::warn!("no timerfd ({e}): the open model paces by spinning");
                    None
                }
            },
            early: Duration::from_micros(50),
            armed: None,
        }
    }

    /// How early the timer is armed now (the learnt wake lateness).
    pub fn early(&self) -> Duration {
        self.early
    }

    /// Whether waits sleep in the kernel (false: they spin near the end).
    pub fn is_precise_sleep(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.fd.is_some();
        #[cfg(not(target_os = "linux"))]
        return false;
    }

    /// Returns at `deadline` or within microseconds after; never before.
    pub async fn sleep_until(&mut self, deadline: Instant) {
        let now = Instant::now();
        let wait = deadline.saturating_duration_since(now);
        if wait > self.early + PACER_SPIN {
            #[cfg(target_os = "linux")]
            if let Some(fd) = &self.fd {
                // The caller polls this in a select! with responses, so a
                // wait for one deadline is often dropped and asked again:
                // the timer stays armed for it rather than being re-armed.
                if self.armed != Some(deadline) {
                    self.armed = fd.arm(wait - self.early).is_ok().then_some(deadline);
                }
                if self.armed.is_some() && fd.expired().await.is_ok() {
                    self.armed = None;
                    // `early` changes only here, so it is what the timer
                    // was armed with.
                    let fire_at = deadline - self.early;
                    self.learn(Instant::now().saturating_duration_since(fire_at));
                    return spin_until(deadline).await;
                }
                tracing::warn!("timerfd failed: the open model paces by spinning");
                self.fd = None;
            }
            return sleep_until_precise(deadline).await;
        }
        spin_until(deadline).await;
    }

    /// Tracks a low quantile of wake lateness (about the 10th percentile):
    /// up a step when this wake came later than the margin, down nine steps
    /// when it came earlier. A mean would follow the tail, and every wake
    /// before the deadline is spun through: when the worker's thread is busy
    /// with responses its wakes look late, a mean-sized margin grows, the
    /// spinning makes the thread busier still, and at 5,000 sends/s CPU per
    /// send rose by half. Aiming low costs a few microseconds of lag instead.
    fn learn(&mut self, late: Duration) {
        if late.min(MAX_EARLY) > self.early {
            self.early = (self.early + EARLY_STEP).min(MAX_EARLY);
        } else {
            self.early = self.early.saturating_sub(EARLY_STEP * 9);
        }
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_os = "linux")]
mod timerfd {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    use tokio::io::unix::AsyncFd;

    pub struct TimerFd(AsyncFd<OwnedFd>);

    impl TimerFd {
        pub fn new() -> io::Result<Self> {
            // SAFETY: plain syscall; the result is checked before use.
            let fd = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a new descriptor that nothing else owns.
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: the AsyncFd owns the descriptor, which stays open (and
            // is never closed by anyone else) until the AsyncFd is dropped.
            let registered = unsafe { AsyncFd::register(owned) };
            Ok(TimerFd(registered.map_err(io::Error::from)?))
        }

        /// Arms the timer `wait` from now, replacing any earlier arming and
        /// clearing its expirations.
        pub fn arm(&self, wait: Duration) -> io::Result<()> {
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: wait.as_secs() as libc::time_t,
                    // A zero it_value would disarm; `wait` is never zero here.
                    tv_nsec: (wait.subsec_nanos() as libc::c_long).max(1),
                },
            };
            let raw = self.0.get_ref().as_raw_fd();
            // SAFETY: `raw` is our open timerfd and `spec` a valid itimerspec.
            if unsafe { libc::timerfd_settime(raw, 0, &spec, std::ptr::null_mut()) } < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// Waits until the armed timer expires (at once if it already has).
        pub async fn expired(&self) -> io::Result<()> {
            let raw = self.0.get_ref().as_raw_fd();
            loop {
                let mut guard = self.0.readable().await?;
                let mut expirations = 0u64;
                // SAFETY: reads 8 bytes into a u64, as timerfd requires.
                let n = unsafe {
                    libc::read(
                        raw,
                        (&mut expirations as *mut u64).cast(),
                        std::mem::size_of::<u64>(),
                    )
                };
                if n == 8 {
                    return Ok(());
                }
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::WouldBlock {
                    return Err(e);
                }
                // Readiness left over from an earlier arming: wait again.
                guard.clear_ready();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    /// A median lateness no working timer comes near, even on a loaded
    /// machine; not a precision target.
    const LOOSE: Duration = Duration::from_millis(5);

    async fn lateness(mut wait: impl AsyncFnMut(Instant)) -> Vec<Duration> {
        let mut late = Vec::new();
        for i in 0..20u64 {
            let deadline = Instant::now() + Duration::from_micros(3_000 + i * 137);
            wait(deadline).await;
            let woke = Instant::now();
            assert!(woke >= deadline, "woke {:?} early", deadline - woke);
            late.push(woke - deadline);
        }
        late.sort();
        late
    }

    #[tokio::test]
    async fn wakes_at_or_just_after_the_deadline_never_before() {
        // Never early (checked by `lateness`). How late is a speed figure
        // (tens of µs here; `bench/pacer.sh` measures it): on a shared CI
        // machine this bound catches only a gross fault, such as a wait
        // armed in the wrong unit or for the wrong deadline.
        let late = lateness(sleep_until_precise).await;
        assert!(late[10] < LOOSE, "median {late:?}");
    }

    #[tokio::test]
    async fn the_pacer_sleeps_in_the_kernel_and_wakes_on_time() {
        let mut p = Pacer::new();
        assert_eq!(p.is_precise_sleep(), cfg!(target_os = "linux"));
        let late = lateness(async |d| p.sleep_until(d).await).await;
        assert!(late[10] < LOOSE, "median {late:?}");
        // A deadline already past returns at once (on its first poll); one
        // re-armed before it fired does not fire early.
        let past = Instant::now() - Duration::from_millis(1);
        assert!(p.sleep_until(past).now_or_never().is_some());
        assert!(p.early() <= MAX_EARLY);
        let far = Instant::now() + Duration::from_secs(5);
        let _ = tokio::time::timeout(Duration::from_millis(2), p.sleep_until(far)).await;
        let near = Instant::now() + Duration::from_millis(3);
        p.sleep_until(near).await;
        assert!(Instant::now() >= near);
    }

    #[tokio::test]
    async fn the_margin_settles_near_the_tenth_percentile_of_lateness() {
        let mut p = Pacer::new();
        // Lateness uniform over 0..100 µs, with a tail of 2 ms stalls one
        // wake in ten: the margin ends near 10 µs, far below the mean
        // (~245 µs), and never past MAX_EARLY.
        for i in 0..20_000u64 {
            let late = if i % 10 == 9 { 2_000 } else { (i * 37) % 100 };
            p.learn(Duration::from_micros(late));
            assert!(p.early() <= MAX_EARLY);
        }
        let early = p.early().as_micros();
        assert!(early <= 30, "margin {early} µs");
        // Always late by much: the margin climbs to its cap and stops.
        for _ in 0..1_000 {
            p.learn(Duration::from_millis(5));
        }
        assert_eq!(p.early(), MAX_EARLY);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_pacer_leaves_the_thread_idle_while_it_waits() {
        // Busy-waiting would burn the whole 200 ms of the wait in CPU.
        let mut p = Pacer::new();
        if !p.is_precise_sleep() {
            return;
        }
        let cpu0 = thread_cpu();
        for _ in 0..20 {
            p.sleep_until(Instant::now() + Duration::from_millis(10))
                .await;
        }
        let used = thread_cpu() - cpu0;
        assert!(used < Duration::from_millis(40), "{used:?} of CPU");
    }

    fn thread_cpu() -> Duration {
        #[cfg(target_os = "linux")]
        {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: writes one timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
        }
        #[cfg(not(target_os = "linux"))]
        Duration::ZERO
    }
}

//! Polling the socket briefly before sleeping on it.
//!
//! A reply that comes within a few microseconds costs more to sleep for
//! than to wait for: the sleep, the wake-up of a CPU that went idle, and
//! the switch back. So the reading thread polls first, but only where
//! polling can pay:
//!
//! - this process may run on more than one CPU (else polling keeps the
//!   server off the only one);
//! - the recent waits were short (a busy server makes them long);
//! - no poll lately ran out while the thread was preempted: that means
//!   other threads (the server's, other clients') want the CPUs, so
//!   polling stops for a while ([`BACKOFF`] waits).

use nix::sys::resource::{getrusage, UsageWho};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Waits longer than this on average turn polling off.
const SHORT_WAIT: Duration = Duration::from_micros(20);

/// The longest a thread polls before it sleeps.
const MAX_POLL: Duration = Duration::from_micros(30);

/// What a long wait counts as in the average (nanoseconds).
const LONG_WAIT_NS: u64 = 100_000;

/// Waits without polling after a poll was preempted.
pub const BACKOFF: u64 = 4096;

/// When to poll, learnt from the waits of one connection.
pub struct Spin {
    /// Whether another CPU can run the server meanwhile.
    multi_cpu: bool,
    /// The recent waits for data, a moving average in nanoseconds.
    avg_ns: AtomicU64,
    /// Waits left before polling may start again.
    backoff: AtomicU64,
}

impl Spin {
    pub fn new() -> Spin {
        Spin::with_cpus(cpus_allowed())
    }

    fn with_cpus(cpus: usize) -> Spin {
        Spin {
            multi_cpu: cpus > 1,
            // Start as if waits were long: polling must earn its place.
            avg_ns: AtomicU64::new(LONG_WAIT_NS),
            backoff: AtomicU64::new(0),
        }
    }

    /// How long to poll before sleeping.
    pub fn budget(&self) -> Duration {
        if !self.multi_cpu {
            return Duration::ZERO;
        }
        let left = self.backoff.load(Ordering::Relaxed);
        if left > 0 {
            self.backoff.store(left - 1, Ordering::Relaxed);
            return Duration::ZERO;
        }
        let avg = Duration::from_nanos(self.avg_ns.load(Ordering::Relaxed));
        if avg < SHORT_WAIT {
            (avg * 2).min(MAX_POLL)
        } else {
            Duration::ZERO
        }
    }

    /// Records how long a read waited for data (polling or asleep).
    pub fn waited(&self, d: Duration) {
        let d = u64::try_from(d.as_nanos()).map_or(LONG_WAIT_NS, |d| d.min(LONG_WAIT_NS));
        let avg = self.avg_ns.load(Ordering::Relaxed);
        // An average over about the last eight waits.
        self.avg_ns.store(avg - avg / 8 + d / 8, Ordering::Relaxed);
    }

    /// Records that a poll ran out while the thread was preempted: the
    /// CPUs are wanted elsewhere.
    pub fn preempted(&self) {
        self.backoff.store(BACKOFF, Ordering::Relaxed);
        self.avg_ns.store(LONG_WAIT_NS, Ordering::Relaxed);
    }
}

impl Default for Spin {
    fn default() -> Self {
        Spin::new()
    }
}

/// Involuntary context switches of the calling thread so far.
pub fn preemptions() -> i64 {
    getrusage(UsageWho::RUSAGE_THREAD).map_or(0, |u| u.involuntary_context_switches())
}

/// The CPUs this process may run on (1 if that cannot be told).
fn cpus_allowed() -> usize {
    nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|&i| set.is_set(i).unwrap_or(false))
                .count()
        })
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_waits_earn_polling_and_long_ones_end_it() {
        let s = Spin::with_cpus(2);
        assert_eq!(s.budget(), Duration::ZERO, "not before waits were seen");
        for _ in 0..64 {
            s.waited(Duration::from_micros(8));
        }
        let b = s.budget();
        assert!(b > Duration::from_micros(10) && b <= MAX_POLL, "{b:?}");
        for _ in 0..64 {
            s.waited(Duration::from_micros(200));
        }
        assert_eq!(s.budget(), Duration::ZERO);
    }

    #[test]
    fn a_preempted_poll_stops_polling_for_a_while() {
        let s = Spin::with_cpus(2);
        for _ in 0..64 {
            s.waited(Duration::from_micros(8));
        }
        s.preempted();
        for _ in 0..BACKOFF {
            assert_eq!(s.budget(), Duration::ZERO);
            s.waited(Duration::from_micros(8));
        }
        assert!(s.budget() > Duration::ZERO, "it comes back");
    }

    #[test]
    fn one_cpu_never_polls() {
        let s = Spin::with_cpus(1);
        for _ in 0..64 {
            s.waited(Duration::from_micros(1));
        }
        assert_eq!(s.budget(), Duration::ZERO);
    }
}

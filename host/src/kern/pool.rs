//! A pool of kernel threads.
//!
//! Syscalls that arrive while their connection's reader is busy, and
//! readers that move off a blocked thread, run here. Threads are started
//! on demand (so a job never waits behind a blocked one) and a few idle
//! ones are kept for reuse.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<State>,
    work: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    idle: usize,
    threads: usize,
}

/// Idle threads kept beyond this many exit after [`IDLE_TIMEOUT`].
const KEEP_IDLE: usize = 16;
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

static POOL: OnceLock<Pool> = OnceLock::new();

fn pool() -> &'static Pool {
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State {
            jobs: VecDeque::new(),
            idle: 0,
            threads: 0,
        }),
        work: Condvar::new(),
    })
}

/// Runs `job` on a pool thread.
pub fn spawn(job: impl FnOnce() + Send + 'static) {
    let p = pool();
    let mut st = p.state.lock();
    st.jobs.push_back(Box::new(job));
    if st.idle > st.jobs.len() - 1 {
        drop(st);
        p.work.notify_one();
        return;
    }
    st.threads += 1;
    drop(st);
    let started = std::thread::Builder::new()
        .name("rump-lwp".into())
        .spawn(worker);
    if let Err(e) = started {
        tracing::error!("cannot start a kernel thread: {e}");
        p.state.lock().threads -= 1;
    }
}

fn worker() {
    let p = pool();
    let mut st = p.state.lock();
    loop {
        if let Some(job) = st.jobs.pop_front() {
            drop(st);
            job();
            st = p.state.lock();
            continue;
        }
        st.idle += 1;
        let timed_out = p.work.wait_for(&mut st, IDLE_TIMEOUT).timed_out();
        st.idle -= 1;
        if timed_out && st.jobs.is_empty() && st.idle >= KEEP_IDLE {
            st.threads -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn blocked_jobs_do_not_hold_up_others() {
        let (tx, rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        spawn(move || {
            let _ = rx.recv();
        });
        spawn(move || done_tx.send(42).unwrap());
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(5)), Ok(42));
        tx.send(()).unwrap();
    }
}

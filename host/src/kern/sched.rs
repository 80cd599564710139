//! Virtual CPUs and blocking.
//!
//! At most `ncpu` syscalls execute at once: a syscall holds a virtual CPU
//! while it runs and gives it up whenever it waits (for client memory, a
//! pipe, a lock, a timer). Waiting also matters for the connection a
//! syscall came from: a thread that executes a syscall while it is the
//! connection's reader hands that role to another thread before it
//! blocks, so the client's other requests keep flowing. That handoff is
//! the thread's "standby" work, kept here per thread.

use super::proc::Proc;
use netbsd_abi::Errno;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Work that must continue on another thread if this one blocks.
pub trait Standby: Any + Send {
    /// Continues the work elsewhere (on a pool thread).
    fn resume_elsewhere(self: Box<Self>);
}

thread_local! {
    static STANDBY: RefCell<Option<Box<dyn Standby>>> = const { RefCell::new(None) };
    /// Virtual CPUs held by this thread (0 or 1), and how many of them a
    /// block in progress gave up.
    static CPU_HELD: Cell<bool> = const { Cell::new(false) };
    static BLOCK_DEPTH: Cell<u32> = const { Cell::new(0) };
    static CPU_RELEASED_BY_BLOCK: Cell<bool> = const { Cell::new(false) };
    static CURRENT: RefCell<Option<Arc<Proc>>> = const { RefCell::new(None) };
}

/// Sets the process whose syscall the calling thread runs.
pub fn set_current(p: Option<Arc<Proc>>) {
    CURRENT.with(|c| *c.borrow_mut() = p);
}

/// Whether the process whose syscall this thread runs is going away, so
/// that a wait should end with EINTR.
pub fn interrupted() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|p| p.is_killed()))
}

/// How often an interruptible wait looks at its process.
const WAKE_CHECK: Duration = Duration::from_millis(50);

/// Waits on `cv` until notified (or a spurious wake-up), as a blocking
/// wait; EINTR if the calling process is going away.
pub fn wait<T>(cv: &Condvar, guard: &mut MutexGuard<'_, T>) -> Result<(), Errno> {
    wait_until(cv, guard, None).map(|_| ())
}

/// Like [`wait`] with a deadline; `Ok(true)` once the deadline passed.
pub fn wait_until<T>(
    cv: &Condvar,
    guard: &mut MutexGuard<'_, T>,
    deadline: Option<Instant>,
) -> Result<bool, Errno> {
    if interrupted() {
        return Err(Errno::EINTR);
    }
    let until = match deadline {
        Some(d) => d.min(Instant::now() + WAKE_CHECK),
        None => Instant::now() + WAKE_CHECK,
    };
    block_begin();
    cv.wait_until(guard, until);
    // The CPU is taken back with the lock let go: a thread that holds a
    // CPU may be waiting for this lock.
    MutexGuard::unlocked(guard, block_end);
    if interrupted() {
        return Err(Errno::EINTR);
    }
    Ok(deadline.is_some_and(|d| Instant::now() >= d))
}

/// The virtual CPUs of the kernel: a counting semaphore whose fast paths
/// are one atomic operation.
pub struct Cpus {
    total: usize,
    free: AtomicUsize,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    freed: Condvar,
}

impl Cpus {
    fn new(n: usize) -> Cpus {
        Cpus {
            total: n,
            free: AtomicUsize::new(n),
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed: Condvar::new(),
        }
    }

    fn try_take(&self) -> bool {
        self.free
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |f| f.checked_sub(1))
            .is_ok()
    }

    fn put(&self) {
        self.free.fetch_add(1, Ordering::AcqRel);
        if self.waiters.load(Ordering::Acquire) > 0 {
            let _g = self.lock.lock();
            self.freed.notify_one();
        }
    }

    fn take_waiting(&self) {
        let mut g = self.lock.lock();
        self.waiters.fetch_add(1, Ordering::AcqRel);
        while !self.try_take() {
            self.freed.wait(&mut g);
        }
        self.waiters.fetch_sub(1, Ordering::AcqRel);
    }
}

static CPUS: OnceLock<Cpus> = OnceLock::new();

/// Sets the number of virtual CPUs; called once at boot.
pub fn init(ncpu: usize) {
    let _ = CPUS.set(Cpus::new(ncpu));
}

fn cpus() -> &'static Cpus {
    CPUS.get_or_init(|| Cpus::new(1))
}

/// The number of virtual CPUs.
pub fn ncpu() -> usize {
    cpus().total
}

/// Takes a virtual CPU for the calling thread, waiting if all are busy.
/// Waiting counts as blocking: the thread's standby work moves first.
pub fn acquire_cpu() {
    if CPU_HELD.get() {
        return;
    }
    let c = cpus();
    if !c.try_take() {
        handoff_standby();
        c.take_waiting();
    }
    CPU_HELD.set(true);
}

/// Gives the calling thread's virtual CPU back.
pub fn release_cpu() {
    if !CPU_HELD.replace(false) {
        return;
    }
    cpus().put();
}

/// Marks the start of a wait: the virtual CPU is given back and the
/// standby work moves to another thread. Pairs with [`block_end`]; pairs
/// may nest.
pub fn block_begin() {
    let depth = BLOCK_DEPTH.get();
    BLOCK_DEPTH.set(depth + 1);
    if depth == 0 {
        CPU_RELEASED_BY_BLOCK.set(CPU_HELD.get());
        release_cpu();
        handoff_standby();
    }
}

/// Marks the end of a wait: the virtual CPU is taken again if the wait
/// gave one up.
pub fn block_end() {
    let depth = BLOCK_DEPTH.get().saturating_sub(1);
    BLOCK_DEPTH.set(depth);
    if depth == 0 && CPU_RELEASED_BY_BLOCK.replace(false) {
        acquire_cpu();
    }
}

/// Runs `f` as a wait (see [`block_begin`]).
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    block_begin();
    let r = f();
    block_end();
    r
}

/// Gives up the virtual CPU around `f` without moving the standby work:
/// for a thread that keeps serving its connection while it waits.
pub fn without_cpu<T>(f: impl FnOnce() -> T) -> T {
    let held = CPU_HELD.get();
    release_cpu();
    let r = f();
    if held {
        acquire_cpu();
    }
    r
}

fn handoff_standby() {
    if let Some(s) = STANDBY.with(|s| s.borrow_mut().take()) {
        s.resume_elsewhere();
    }
}

/// Gives the calling thread standby work.
pub fn set_standby(s: Box<dyn Standby>) {
    STANDBY.with(|slot| *slot.borrow_mut() = Some(s));
}

/// Takes the calling thread's standby work back, if it is still here and
/// of type `T`.
pub fn take_standby<T: Standby>() -> Option<Box<T>> {
    STANDBY.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot
            .as_ref()
            .is_some_and(|s| (s.as_ref() as &dyn Any).is::<T>())
        {
            let s: Box<dyn Any> = slot.take().unwrap();
            s.downcast::<T>().ok()
        } else {
            None
        }
    })
}

/// Whether the calling thread currently has standby work.
pub fn has_standby() -> bool {
    STANDBY.with(|s| s.borrow().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    struct Flag(Arc<AtomicBool>);
    impl Standby for Flag {
        fn resume_elsewhere(self: Box<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn blocking_moves_standby_and_cpu() {
        init(1);
        let moved = Arc::new(AtomicBool::new(false));
        set_standby(Box::new(Flag(moved.clone())));
        acquire_cpu();
        assert_eq!(cpus().free.load(Ordering::SeqCst), 0);
        blocking(|| {
            assert!(moved.load(Ordering::SeqCst));
            assert_eq!(cpus().free.load(Ordering::SeqCst), 1);
        });
        assert_eq!(cpus().free.load(Ordering::SeqCst), 0);
        release_cpu();
        assert!(!has_standby());
        set_standby(Box::new(Flag(moved.clone())));
        assert!(take_standby::<Flag>().is_some());
        assert!(take_standby::<Flag>().is_none());
    }
}

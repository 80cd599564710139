//! Processes: one per client connection, plus init (pid 1) and the
//! pre-forked children that wait for a FORK handshake.

use super::fd::FdTable;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

/// Largest pid before allocation wraps around (PID_MAX).
const PID_MAX: i32 = 30000;

/// A process of the kernel.
pub struct Proc {
    pub pid: i32,
    ppid: AtomicI32,
    comm: Mutex<String>,
    pub fds: Mutex<FdTable>,
    /// Set when the process is going away: waits inside its syscalls end
    /// with EINTR.
    killed: AtomicBool,
    /// Syscalls of this process in progress.
    active: AtomicUsize,
    idle_lock: Mutex<()>,
    idle: Condvar,
    exec_in_progress: AtomicBool,
}

impl Proc {
    fn new(pid: i32, ppid: i32, comm: &str, fds: FdTable) -> Arc<Proc> {
        Arc::new(Proc {
            pid,
            ppid: AtomicI32::new(ppid),
            comm: Mutex::new(comm.to_string()),
            fds: Mutex::new(fds),
            killed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            idle_lock: Mutex::new(()),
            idle: Condvar::new(),
            exec_in_progress: AtomicBool::new(false),
        })
    }

    pub fn ppid(&self) -> i32 {
        self.ppid.load(Ordering::Relaxed)
    }

    pub fn comm(&self) -> String {
        self.comm.lock().clone()
    }

    /// Sets the process name (at most MAXCOMLEN bytes are kept).
    pub fn set_comm(&self, name: &[u8]) {
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        let name = &name[..name.len().min(netbsd_abi::limits::MAXCOMLEN)];
        *self.comm.lock() = String::from_utf8_lossy(name).into_owned();
    }

    /// Whether waits inside this process's syscalls should end (EINTR):
    /// the process is going away, or an exec is replacing its program.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire) || self.exec_in_progress()
    }

    /// Marks the process as going away.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
    }

    /// Counts a syscall in.
    pub fn enter(&self) {
        self.active.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a syscall out.
    pub fn leave(&self) {
        if self.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _g = self.idle_lock.lock();
            self.idle.notify_all();
        }
    }

    /// Waits until no syscall of the process is in progress.
    pub fn wait_idle(&self) {
        let mut g = self.idle_lock.lock();
        while self.active.load(Ordering::Acquire) > 0 {
            self.idle.wait(&mut g);
        }
    }

    pub fn exec_in_progress(&self) -> bool {
        self.exec_in_progress.load(Ordering::Acquire)
    }

    /// Starts an exec; `false` if one is already in progress.
    pub fn begin_exec(&self) -> bool {
        !self.exec_in_progress.swap(true, Ordering::AcqRel)
    }

    pub fn end_exec(&self) {
        self.exec_in_progress.store(false, Ordering::Release);
    }
}

/// All processes.
pub struct ProcTable {
    procs: Mutex<Table>,
    init: Arc<Proc>,
}

struct Table {
    by_pid: HashMap<i32, Weak<Proc>>,
    next_pid: i32,
    preforked: HashMap<[u8; 16], Arc<Proc>>,
}

impl ProcTable {
    pub fn new() -> ProcTable {
        let init = Proc::new(1, 0, "init", FdTable::default());
        let mut by_pid = HashMap::new();
        by_pid.insert(1, Arc::downgrade(&init));
        ProcTable {
            procs: Mutex::new(Table {
                by_pid,
                next_pid: 2,
                preforked: HashMap::new(),
            }),
            init,
        }
    }

    /// Process 1.
    pub fn init(&self) -> &Arc<Proc> {
        &self.init
    }

    /// Creates a process with a fresh pid.
    pub fn spawn(&self, ppid: i32, comm: &str, fds: FdTable) -> Arc<Proc> {
        let mut t = self.procs.lock();
        t.by_pid.retain(|_, p| p.strong_count() > 0);
        let mut pid = t.next_pid;
        while t.by_pid.contains_key(&pid) {
            pid = if pid >= PID_MAX { 2 } else { pid + 1 };
        }
        t.next_pid = if pid >= PID_MAX { 2 } else { pid + 1 };
        let p = Proc::new(pid, ppid, comm, fds);
        t.by_pid.insert(pid, Arc::downgrade(&p));
        p
    }

    /// Looks a process up.
    pub fn get(&self, pid: i32) -> Option<Arc<Proc>> {
        self.procs.lock().by_pid.get(&pid).and_then(Weak::upgrade)
    }

    /// Number of live processes, init included.
    pub fn count(&self) -> usize {
        self.procs
            .lock()
            .by_pid
            .values()
            .filter(|p| p.strong_count() > 0)
            .count()
    }

    /// Forks `parent` (the descriptor table is copied) and keeps the child
    /// under a fresh random cookie until a FORK handshake claims it.
    pub fn prefork(&self, parent: &Proc) -> Result<([u8; 16], i32), getrandom::Error> {
        let mut cookie = [0u8; 16];
        getrandom::fill(&mut cookie)?;
        let fds = parent.fds.lock().clone();
        let child = self.spawn(parent.pid, &parent.comm(), fds);
        let pid = child.pid;
        self.procs.lock().preforked.insert(cookie, child);
        Ok((cookie, pid))
    }

    /// Takes the pre-forked process for `cookie`.
    pub fn claim_prefork(&self, cookie: &[u8; 16]) -> Option<Arc<Proc>> {
        self.procs.lock().preforked.remove(cookie)
    }
}

impl Default for ProcTable {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_and_preforks() {
        let t = ProcTable::new();
        let a = t.spawn(1, "a", FdTable::default());
        assert_eq!(a.pid, 2);
        let (cookie, _) = t.prefork(&a).unwrap();
        let pre = t.claim_prefork(&cookie).unwrap();
        assert_eq!((pre.pid, pre.ppid()), (3, 2));
        assert!(t.claim_prefork(&cookie).is_none());
        drop(pre);
        let b = t.spawn(1, "b", FdTable::default());
        assert_eq!(b.pid, 4, "pids are not reused at once");
        a.set_comm(b"a-very-long-program-name\0");
        assert_eq!(a.comm(), "a-very-long-prog");
    }
}

//! A mount's supply of huge extents, faulted in ahead of need.
//!
//! The first write into fresh memory pays for its page faults and for the
//! host zeroing the pages; for a big file written front to back that is
//! most of a write's cost. Once a file takes a huge extent, a worker
//! thread keeps [`READY`] more mapped and faulted in, on a CPU that would
//! otherwise wait for the client's next request. Ready extents are
//! charged to the kernel's memory accountant (not to the mount: they hold
//! no file's data yet); they are dropped after [`IDLE`] without takers,
//! or when a write finds no memory ([`Supply::drain`]), and the worker
//! stops at unmount.

use crate::extent::HUGE_BYTES;
use crate::mem::MemSink;
use memmap2::{Advice, MmapMut};
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Extents kept ready while writers take them.
pub const READY: usize = 2;

/// How long ready extents wait for a taker before they are dropped.
pub const IDLE: Duration = Duration::from_secs(2);

/// A fresh huge mapping, not yet touched.
pub fn fresh() -> Option<MmapMut> {
    let map = MmapMut::map_anon(HUGE_BYTES).ok()?;
    // Only a hint: without huge pages the mapping works page by page.
    let _ = map.advise(Advice::HugePage);
    Some(map)
}

/// A mapping with every page faulted in.
fn faulted() -> Option<MmapMut> {
    let mut map = fresh()?;
    for page in map.chunks_mut(4096) {
        page[0] = 0;
    }
    std::hint::black_box(&map);
    Some(map)
}

struct State {
    ready: Vec<MmapMut>,
    /// How many to keep ready: [`READY`] after a take, 0 when idle.
    want: usize,
    running: bool,
    stop: bool,
}

impl State {
    /// Drops the ready extents and wants none until the next take.
    fn drain(&mut self, sink: &dyn MemSink) {
        self.want = 0;
        let dropped = std::mem::take(&mut self.ready);
        sink.release((dropped.len() * HUGE_BYTES) as u64);
    }
}

struct Shared {
    st: Mutex<State>,
    cv: Condvar,
    sink: Arc<dyn MemSink>,
}

/// One mount's supply; see the module documentation.
pub struct Supply {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Supply {
    pub fn new(sink: Arc<dyn MemSink>) -> Supply {
        Supply {
            shared: Arc::new(Shared {
                st: Mutex::new(State {
                    ready: Vec::new(),
                    want: 0,
                    running: false,
                    stop: false,
                }),
                cv: Condvar::new(),
                sink,
            }),
            worker: Mutex::new(None),
        }
    }

    /// The mapping for a new huge extent: a ready one if there is one,
    /// else a fresh one (None if the host has no memory to map).
    pub fn take(&self) -> Option<MmapMut> {
        let mut st = self.shared.st.lock();
        let ready = st.ready.pop();
        if ready.is_some() {
            self.shared.sink.release(HUGE_BYTES as u64);
        }
        if !st.stop {
            st.want = READY;
            if !st.running {
                st.running = true;
                let shared = self.shared.clone();
                let spawned = std::thread::Builder::new()
                    .name("tmpfs-supply".into())
                    .spawn(move || work(&shared));
                match spawned {
                    Ok(h) => *self.worker.lock() = Some(h),
                    Err(_) => st.running = false,
                }
            }
            self.shared.cv.notify_all();
        }
        drop(st);
        ready.or_else(fresh)
    }

    /// Ready extents now (for tests).
    pub fn ready(&self) -> usize {
        self.shared.st.lock().ready.len()
    }

    /// Gives the memory of the ready extents back (a write found none).
    pub fn drain(&self) {
        self.shared.st.lock().drain(&*self.shared.sink);
    }

    /// Stops the worker and drops the ready extents; later takes map
    /// fresh memory.
    pub fn stop(&self) {
        self.shared.st.lock().stop = true;
        self.shared.cv.notify_all();
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
        self.drain();
    }
}

impl Drop for Supply {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The worker: keeps the extents wanted ready, and drops them when idle.
fn work(shared: &Shared) {
    let sink = &*shared.sink;
    let mut st = shared.st.lock();
    while !st.stop {
        if st.ready.len() < st.want {
            if sink.reserve(HUGE_BYTES as u64).is_err() {
                // No memory to spare: wait for the next taker.
                st.want = 0;
                continue;
            }
            drop(st);
            let map = faulted();
            st = shared.st.lock();
            match map {
                Some(m) if st.want > 0 && !st.stop => st.ready.push(m),
                _ => sink.release(HUGE_BYTES as u64),
            }
        } else if st.ready.is_empty() {
            shared.cv.wait(&mut st);
        } else if shared.cv.wait_for(&mut st, IDLE).timed_out() {
            st.drain(sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::testing::FakeMem;
    use std::time::Instant;

    fn wait_for(what: impl Fn() -> bool) {
        let t = Instant::now();
        while !what() {
            assert!(t.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn takers_find_extents_ready_and_charged_until_taken() {
        let fake = FakeMem::new(None);
        let s = Supply::new(fake.clone());
        assert_eq!(s.ready(), 0);
        assert!(s.take().is_some(), "the first take maps fresh memory");
        wait_for(|| s.ready() == READY);
        assert_eq!(fake.used(), (READY * HUGE_BYTES) as u64);
        let m = s.take().unwrap();
        assert!(m.iter().all(|&b| b == 0));
        wait_for(|| s.ready() == READY);
        s.stop();
        assert_eq!((s.ready(), fake.used()), (0, 0));
        assert!(s.take().is_some(), "a stopped supply still maps");
        assert_eq!(s.ready(), 0);
    }

    #[test]
    fn draining_gives_the_memory_back_until_the_next_take() {
        let fake = FakeMem::new(None);
        let s = Supply::new(fake.clone());
        s.take().unwrap();
        wait_for(|| s.ready() == READY);
        s.drain();
        assert_eq!(fake.used(), 0);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(s.ready(), 0, "nothing is made ready before a take");
        s.take().unwrap();
        wait_for(|| s.ready() == READY);
    }

    #[test]
    fn nothing_is_kept_beyond_the_kernel_limit() {
        let fake = FakeMem::new(Some(HUGE_BYTES as u64));
        let s = Supply::new(fake.clone());
        s.take().unwrap();
        wait_for(|| s.ready() == 1);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(s.ready(), 1);
        assert_eq!(fake.used(), HUGE_BYTES as u64);
        drop(s);
        assert_eq!(fake.used(), 0);
    }
}

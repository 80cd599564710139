//! The syncer: a thread per mount that writes changes back every
//! [`INTERVAL`] (NetBSD's syncer delay), so that a server that is killed
//! rather than halted loses at most that much. Unmounting stops it and
//! waits for it, so that no thread of this library outlives its mounts
//! (the library may be unloaded right after).

use crate::fs::Fs;
use parking_lot::{Condvar, Mutex};
use rump_plugin_api::kernel;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often changes are written back.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// A running syncer; [`Syncer::stop`] ends it.
pub struct Syncer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<()>,
}

impl Syncer {
    /// Tells the thread to end and waits until it has.
    pub fn stop(self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        let _ = self.thread.join();
    }
}

/// Starts syncing `fs` every `interval`.
pub fn start(fs: &Arc<Fs>, interval: Duration) -> Option<Syncer> {
    let weak: Weak<Fs> = Arc::downgrade(fs);
    let stop = Arc::new((Mutex::new(false), Condvar::new()));
    let flag = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("ext2fs-syncer".into())
        .spawn(move || loop {
            {
                let mut stopped = flag.0.lock();
                if !*stopped {
                    flag.1.wait_for(&mut stopped, interval);
                }
                if *stopped {
                    return;
                }
            }
            let Some(fs) = weak.upgrade() else {
                return;
            };
            if fs.alive().is_err() {
                return;
            }
            if fs.is_dirty() {
                if let Err(e) = fs.sync(false) {
                    kernel::warn(&format!("ext2fs: {}: sync: {e}", fs.source));
                }
            }
        });
    match spawned {
        Ok(thread) => Some(Syncer { stop, thread }),
        Err(e) => {
            kernel::warn(&format!("ext2fs: {}: no syncer: {e}", fs.source));
            None
        }
    }
}

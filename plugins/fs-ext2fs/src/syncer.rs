//! The syncer: a thread per mount that writes changes back every
//! [`INTERVAL`] (NetBSD's syncer delay), so that a server that is killed
//! rather than halted loses at most that much. It stops once the mount
//! is unmounted or gone.

use crate::fs::Fs;
use crate::log;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often changes are written back.
pub const INTERVAL: Duration = Duration::from_secs(30);
/// How often the thread looks whether its mount is still there.
const TICK: Duration = Duration::from_millis(250);

/// Starts syncing `fs` every `interval`.
pub fn start(fs: &Arc<Fs>, interval: Duration) {
    let weak: Weak<Fs> = Arc::downgrade(fs);
    let spawned = std::thread::Builder::new()
        .name("ext2fs-syncer".into())
        .spawn(move || {
            let mut last = Instant::now();
            loop {
                std::thread::sleep(TICK.min(interval));
                let Some(fs) = weak.upgrade() else {
                    return;
                };
                if fs.alive().is_err() {
                    return;
                }
                if last.elapsed() < interval {
                    continue;
                }
                last = Instant::now();
                if fs.is_dirty() {
                    if let Err(e) = fs.sync(false) {
                        log::warn(&format!("ext2fs: {}: sync: {e}", fs.source));
                    }
                }
            }
        });
    if let Err(e) = spawned {
        log::warn(&format!("ext2fs: {}: no syncer: {e}", fs.source));
    }
}

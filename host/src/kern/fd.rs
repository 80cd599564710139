//! Per-process descriptor tables.
//!
//! A descriptor points at an open file description ([`FileDesc`]): the
//! file object and its flags, shared by `dup`, `fork` and descriptor
//! passing. Close-on-exec belongs to the descriptor itself.

use netbsd_abi::Errno;
use rump_plugin_api::{FileObj, OpenFile};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

/// Descriptors a process may have open (`RLIMIT_NOFILE`).
pub const MAXFILES: usize = 1024;

/// An open file description.
pub struct FileDesc {
    pub file: FileObj,
    /// Kernel file flags: FREAD, FWRITE and the status flags.
    fflags: AtomicI32,
}

impl FileDesc {
    pub fn new(file: FileObj, fflags: i32) -> Arc<FileDesc> {
        Arc::new(FileDesc {
            file,
            fflags: AtomicI32::new(fflags),
        })
    }

    pub fn fflags(&self) -> i32 {
        self.fflags.load(Ordering::Relaxed)
    }

    /// Replaces the flags in `mask` with those of `value`.
    pub fn set_fflags(&self, mask: i32, value: i32) {
        let _ = self
            .fflags
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |f| {
                Some((f & !mask) | (value & mask))
            });
    }

    /// The view handed to components.
    pub fn open_file(&self) -> OpenFile {
        OpenFile {
            file: self.file.clone(),
            fflags: self.fflags(),
        }
    }
}

/// One descriptor slot.
#[derive(Clone)]
pub struct FdEntry {
    pub desc: Arc<FileDesc>,
    pub cloexec: bool,
}

/// A process's descriptors.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
}

fn index(fd: i32) -> Result<usize, Errno> {
    usize::try_from(fd)
        .ok()
        .filter(|&i| i < MAXFILES)
        .ok_or(Errno::EBADF)
}

impl FdTable {
    /// The entry for `fd`; EBADF if it is not open.
    pub fn get(&self, fd: i32) -> Result<&FdEntry, Errno> {
        self.slots
            .get(index(fd)?)
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    /// Mutable access to the entry for `fd`.
    pub fn get_mut(&mut self, fd: i32) -> Result<&mut FdEntry, Errno> {
        let i = index(fd)?;
        self.slots
            .get_mut(i)
            .and_then(Option::as_mut)
            .ok_or(Errno::EBADF)
    }

    /// Puts `entry` in the lowest free slot at or above `min`; EMFILE if
    /// none is free (EINVAL for a `min` beyond the table).
    pub fn alloc(&mut self, entry: FdEntry, min: i32) -> Result<i32, Errno> {
        let min = usize::try_from(min).map_err(|_| Errno::EINVAL)?;
        if min >= MAXFILES {
            return Err(Errno::EINVAL);
        }
        let free = (min..MAXFILES).find(|&i| self.slots.get(i).is_none_or(Option::is_none));
        let i = free.ok_or(Errno::EMFILE)?;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(entry);
        Ok(i as i32)
    }

    /// Puts `entry` at `fd`, returning what was there (dup2).
    pub fn install_at(&mut self, fd: i32, entry: FdEntry) -> Result<Option<FdEntry>, Errno> {
        let i = index(fd)?;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        Ok(self.slots[i].replace(entry))
    }

    /// Removes `fd`; EBADF if it was not open.
    pub fn close(&mut self, fd: i32) -> Result<FdEntry, Errno> {
        let i = index(fd)?;
        let e = self
            .slots
            .get_mut(i)
            .and_then(Option::take)
            .ok_or(Errno::EBADF)?;
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        Ok(e)
    }

    /// Removes every descriptor at or above `min` (F_CLOSEM).
    pub fn close_from(&mut self, min: usize) -> Vec<FdEntry> {
        if min >= self.slots.len() {
            return Vec::new();
        }
        self.slots.drain(min..).flatten().collect()
    }

    /// Removes the close-on-exec descriptors.
    pub fn close_on_exec(&mut self) -> Vec<FdEntry> {
        let closed = self
            .slots
            .iter_mut()
            .filter(|s| s.as_ref().is_some_and(|e| e.cloexec))
            .filter_map(Option::take)
            .collect();
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        closed
    }

    /// The highest open descriptor, if any.
    pub fn max_fd(&self) -> Option<i32> {
        self.slots
            .iter()
            .rposition(Option::is_some)
            .map(|i| i as i32)
    }

    /// Removes all descriptors.
    pub fn clear(&mut self) -> Vec<FdEntry> {
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect()
    }
}

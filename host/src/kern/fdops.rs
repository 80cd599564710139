//! Descriptor operations shared by the kern syscalls and the services
//! offered to components.

use super::fd::{FdEntry, FileDesc};
use super::proc::Proc;
use netbsd_abi::Errno;
use rump_plugin_api::FileObj;
use std::sync::Arc;

/// Installs a new open file in the lowest free descriptor.
pub fn install(p: &Proc, file: FileObj, fflags: i32, cloexec: bool) -> Result<i32, Errno> {
    let desc = FileDesc::new(file, fflags);
    p.fds.lock().alloc(FdEntry { desc, cloexec }, 0)
}

/// The open file description behind `fd`.
pub fn get(p: &Proc, fd: i32) -> Result<Arc<FileDesc>, Errno> {
    p.fds.lock().get(fd).map(|e| e.desc.clone())
}

/// Lets the files behind descriptors that `p` closed know (POSIX locks of
/// the process go with any of its descriptors). The files themselves close
/// when their last descriptor goes.
pub fn release(p: &Proc, closed: Vec<FdEntry>) {
    for e in closed {
        e.desc.file.closed(p.pid);
    }
}

/// Closes `fd`.
pub fn close(p: &Proc, fd: i32) -> Result<(), Errno> {
    let entry = p.fds.lock().close(fd)?;
    release(p, vec![entry]);
    Ok(())
}

/// Duplicates `fd` into the lowest free descriptor at or above `min`.
pub fn dup(p: &Proc, fd: i32, min: i32, cloexec: bool) -> Result<i32, Errno> {
    let mut t = p.fds.lock();
    let desc = t.get(fd)?.desc.clone();
    t.alloc(FdEntry { desc, cloexec }, min)
}

/// Makes `to` refer to what `from` refers to (dup2/dup3). The file that
/// `to` referred to is closed.
pub fn dup_to(p: &Proc, from: i32, to: i32, cloexec: bool) -> Result<i32, Errno> {
    let old = {
        let mut t = p.fds.lock();
        let desc = t.get(from)?.desc.clone();
        if from == to {
            return Ok(to);
        }
        t.install_at(to, FdEntry { desc, cloexec })?
    };
    release(p, old.into_iter().collect());
    Ok(to)
}

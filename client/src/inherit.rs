//! Taking ownership of a descriptor inherited across exec. This is the
//! only unsafe code of the client library.
#![allow(unsafe_code)]

use nix::sys::stat::{fstat, SFlag};
use std::os::fd::{FromRawFd, OwnedFd};

/// Adopts `fd` if it is an open socket that nothing else in this process
/// owns (it came from RUMPCLIENT__EXECFD).
pub fn adopt_fd(fd: i32) -> Option<OwnedFd> {
    let st = fstat(fd).ok()?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFSOCK {
        return None;
    }
    // SAFETY: fd is open (fstat succeeded) and is a socket the exec'ing
    // parent left for this program by name in RUMPCLIENT__EXECFD; nothing
    // else in this process claims it, so ownership moves here once.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

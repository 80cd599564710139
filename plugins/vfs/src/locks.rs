//! Advisory locks: POSIX record locks (fcntl), owned by a process, and
//! flock(2) locks, owned by an open file. Like BSD, both kinds share one
//! list per file, so they conflict with each other.

use parking_lot::{Condvar, Mutex};
use rump_plugin_api::abi::fcntl::{Flock, F_RDLCK, F_UNLCK, F_WRLCK, SEEK_SET};
use rump_plugin_api::{kernel, Errno, KResult};
use std::collections::HashMap;
use std::time::Duration;

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A process (fcntl locks).
    Proc(i32),
    /// An open file (flock locks), by its identity.
    File(u64),
}

/// One lock: the byte range [start, end) (end None: to the end of any
/// file), shared or exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lock {
    owner: Owner,
    start: u64,
    end: Option<u64>,
    write: bool,
}

fn overlaps(a: &Lock, start: u64, end: Option<u64>) -> bool {
    let a_before_b = a.end.is_some_and(|e| e <= start);
    let b_before_a = end.is_some_and(|e| e <= a.start);
    !(a_before_b || b_before_a)
}

/// The locks of every file, keyed by (mount, file number).
#[derive(Default)]
pub struct Locks {
    files: Mutex<HashMap<(u64, u64), Vec<Lock>>>,
    changed: Condvar,
}

/// A lock request in absolute terms.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub start: u64,
    pub end: Option<u64>,
    /// F_RDLCK, F_WRLCK or F_UNLCK.
    pub ty: i16,
}

/// Turns a `struct flock` into an absolute range, given the file's
/// current offset (SEEK_CUR) and size (SEEK_END).
pub fn range(l: &Flock, offset: i64, size: i64) -> KResult<Request> {
    let base = match i32::from(l.whence) {
        SEEK_SET => 0,
        rump_plugin_api::abi::fcntl::SEEK_CUR => offset,
        rump_plugin_api::abi::fcntl::SEEK_END => size,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(l.start).ok_or(Errno::EOVERFLOW)?;
    let (start, end) = if l.len > 0 {
        (
            start,
            Some(start.checked_add(l.len).ok_or(Errno::EOVERFLOW)?),
        )
    } else if l.len < 0 {
        (start + l.len, Some(start))
    } else {
        (start, None)
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Request {
        start: start as u64,
        end: end.map(|e| e as u64),
        ty: l.ty,
    })
}

impl Locks {
    fn conflict(list: &[Lock], owner: Owner, r: &Request) -> Option<Lock> {
        let write = r.ty == F_WRLCK;
        list.iter()
            .find(|l| l.owner != owner && (write || l.write) && overlaps(l, r.start, r.end))
            .copied()
    }

    /// F_GETLK: the first lock that would block `r`, as a `struct flock`
    /// (type F_UNLCK when none would).
    pub fn test(&self, file: (u64, u64), owner: Owner, r: Request) -> Flock {
        let files = self.files.lock();
        let list = files.get(&file).map_or(&[][..], Vec::as_slice);
        match Self::conflict(list, owner, &r) {
            Some(l) => Flock {
                start: l.start as i64,
                len: l.end.map_or(0, |e| (e - l.start) as i64),
                pid: match l.owner {
                    Owner::Proc(p) => p,
                    Owner::File(_) => -1,
                },
                ty: if l.write { F_WRLCK } else { F_RDLCK },
                whence: SEEK_SET as i16,
            },
            None => Flock {
                ty: F_UNLCK,
                whence: SEEK_SET as i16,
                ..Flock::default()
            },
        }
    }

    /// Sets or clears a lock; with `wait`, waits while another owner's
    /// lock conflicts (EINTR if the calling process goes away), else fails
    /// with EAGAIN.
    pub fn set(&self, file: (u64, u64), owner: Owner, r: Request, wait: bool) -> KResult<()> {
        let mut files = self.files.lock();
        if r.ty != F_UNLCK {
            loop {
                let list = files.get(&file).map_or(&[][..], Vec::as_slice);
                if Self::conflict(list, owner, &r).is_none() {
                    break;
                }
                if !wait {
                    return Err(Errno::EAGAIN);
                }
                if kernel().interrupted() {
                    return Err(Errno::EINTR);
                }
                kernel().wait_for(&self.changed, &mut files, Duration::from_millis(50));
            }
        }
        let list = files.entry(file).or_default();
        Self::cut(list, owner, r.start, r.end);
        if r.ty != F_UNLCK {
            list.push(Lock {
                owner,
                start: r.start,
                end: r.end,
                write: r.ty == F_WRLCK,
            });
            Self::merge(list, owner);
        }
        if list.is_empty() {
            files.remove(&file);
        }
        self.changed.notify_all();
        Ok(())
    }

    /// Removes `owner`'s coverage of [start, end), splitting its locks.
    fn cut(list: &mut Vec<Lock>, owner: Owner, start: u64, end: Option<u64>) {
        let mut out = Vec::with_capacity(list.len() + 1);
        for l in list.drain(..) {
            if l.owner != owner || !overlaps(&l, start, end) {
                out.push(l);
                continue;
            }
            if l.start < start {
                out.push(Lock {
                    end: Some(start),
                    ..l
                });
            }
            if let Some(e) = end {
                if l.end.is_none_or(|le| le > e) {
                    out.push(Lock { start: e, ..l });
                }
            }
        }
        *list = out;
    }

    /// Joins `owner`'s adjacent or overlapping locks of the same kind.
    fn merge(list: &mut Vec<Lock>, owner: Owner) {
        let (mut mine, mut rest): (Vec<Lock>, Vec<Lock>) =
            list.drain(..).partition(|l| l.owner == owner);
        mine.sort_by_key(|l| (l.write, l.start));
        let mut merged: Vec<Lock> = Vec::new();
        for l in mine {
            match merged.last_mut() {
                Some(m) if m.write == l.write && m.end.is_none_or(|e| e >= l.start) => {
                    m.end = match (m.end, l.end) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => merged.push(l),
            }
        }
        rest.extend(merged);
        *list = rest;
    }

    /// Drops every lock `owner` holds on `file`.
    pub fn release(&self, file: (u64, u64), owner: Owner) {
        let mut files = self.files.lock();
        if let Some(list) = files.get_mut(&file) {
            list.retain(|l| l.owner != owner);
            if list.is_empty() {
                files.remove(&file);
            }
            self.changed.notify_all();
        }
    }

    /// Drops every lock `owner` holds anywhere.
    pub fn release_owner(&self, owner: Owner) {
        let mut files = self.files.lock();
        files.retain(|_, list| {
            list.retain(|l| l.owner != owner);
            !list.is_empty()
        });
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(start: u64, end: Option<u64>, ty: i16) -> Request {
        Request { start, end, ty }
    }

    const F: (u64, u64) = (1, 7);

    #[test]
    fn ranges_conflict_split_and_merge() {
        let l = Locks::default();
        let (a, b) = (Owner::Proc(2), Owner::Proc(3));
        l.set(F, a, req(0, Some(100), F_WRLCK), false).unwrap();
        assert_eq!(
            l.set(F, b, req(50, Some(60), F_RDLCK), false),
            Err(Errno::EAGAIN)
        );
        assert_eq!(
            l.set(F, b, req(100, None, F_WRLCK), false),
            Ok(()),
            "adjacent, no overlap"
        );
        // Unlocking the middle splits a's lock; b can read-lock there now.
        l.set(F, a, req(40, Some(60), F_UNLCK), false).unwrap();
        l.set(F, b, req(45, Some(55), F_RDLCK), false).unwrap();
        let t = l.test(F, b, req(0, Some(10), F_WRLCK));
        assert_eq!((t.ty, t.start, t.len, t.pid), (F_WRLCK, 0, 40, 2));
        let t = l.test(F, a, req(45, Some(46), F_RDLCK));
        assert_eq!(t.ty, F_UNLCK, "read locks share");
        l.release_owner(a);
        assert_eq!(l.test(F, b, req(0, Some(40), F_WRLCK)).ty, F_UNLCK);
        // A lock's own owner never conflicts with itself; upgrading merges.
        l.set(F, b, req(0, Some(10), F_WRLCK), false).unwrap();
        l.set(F, b, req(10, Some(20), F_WRLCK), false).unwrap();
        assert_eq!(
            l.files.lock()[&F]
                .iter()
                .filter(|x| x.write && x.start == 0)
                .count(),
            1
        );
    }

    #[test]
    fn flock_style_and_relative_ranges() {
        let r = range(
            &Flock {
                start: -10,
                len: 0,
                ty: F_WRLCK,
                whence: 2,
                pid: 0,
            },
            0,
            100,
        )
        .unwrap();
        assert_eq!((r.start, r.end), (90, None));
        let r = range(
            &Flock {
                start: 5,
                len: -5,
                ty: F_RDLCK,
                whence: 1,
                pid: 0,
            },
            10,
            0,
        )
        .unwrap();
        assert_eq!((r.start, r.end), (10, Some(15)));
        assert!(range(
            &Flock {
                start: -1,
                len: 0,
                ty: F_RDLCK,
                whence: 0,
                pid: 0
            },
            0,
            0
        )
        .is_err());
    }
}

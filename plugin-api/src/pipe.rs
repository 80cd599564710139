//! The byte stream of a pipe or FIFO, and its read and write rules, for
//! every component that offers one. The waiting is the owner's: it holds
//! the buffer under its own lock and says how to wait for a change.
//!
//! Reads return what is there, or wait while writers remain (EOF when
//! none, EAGAIN when non-blocking). Writes of at most PIPE_BUF bytes go in
//! whole or not at all; bigger ones go in pieces as room appears. Without
//! readers a write fails with EPIPE (or returns what it wrote before).

use crate::{Errno, KResult};
use netbsd_abi::limits::PIPE_BUF;
use std::collections::VecDeque;

/// The buffered bytes of a pipe and how many ends of each kind are open.
pub struct PipeBuf {
    data: VecDeque<u8>,
    capacity: usize,
    pub readers: usize,
    pub writers: usize,
}

impl PipeBuf {
    /// An empty buffer holding at most `capacity` bytes, with no ends open.
    pub fn new(capacity: usize) -> PipeBuf {
        PipeBuf {
            data: VecDeque::new(),
            capacity,
            readers: 0,
            writers: 0,
        }
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Drops what is buffered (the last end closed).
    pub fn clear(&mut self) {
        self.data = VecDeque::new();
    }
}

/// A pipe buffer held under its owner's lock, with the owner's way of
/// waiting for the other end.
pub trait PipeLock {
    fn buf(&mut self) -> &mut PipeBuf;

    /// Releases the lock until the buffer changes (or a while passes),
    /// then takes it again; EINTR when the caller's process goes away.
    fn wait(&mut self) -> KResult<()>;

    /// Tells waiters that the buffer changed.
    fn changed(&mut self);
}

/// Reads up to `len` bytes.
pub fn read(p: &mut impl PipeLock, len: usize, nonblock: bool) -> KResult<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    while p.buf().is_empty() {
        if p.buf().writers == 0 {
            return Ok(Vec::new());
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        p.wait()?;
    }
    let b = p.buf();
    let n = len.min(b.data.len());
    let data: Vec<u8> = b.data.drain(..n).collect();
    p.changed();
    Ok(data)
}

/// Writes `data`; returns how much went in.
pub fn write(p: &mut impl PipeLock, data: &[u8], nonblock: bool) -> KResult<u64> {
    let mut done = 0;
    // What a write that stops early returns: what it wrote, else `e`.
    let stop = |done: usize, e: Errno| if done > 0 { Ok(done as u64) } else { Err(e) };
    while done < data.len() {
        let b = p.buf();
        if b.readers == 0 {
            return stop(done, Errno::EPIPE);
        }
        let room = b.capacity - b.data.len();
        let rest = data.len() - done;
        let fits = if rest <= PIPE_BUF {
            room >= rest
        } else {
            room > 0
        };
        if !fits {
            if nonblock {
                return stop(done, Errno::EAGAIN);
            }
            if let Err(e) = p.wait() {
                return stop(done, e);
            }
            continue;
        }
        let n = rest.min(room);
        b.data.extend(&data[done..done + n]);
        done += n;
        p.changed();
    }
    Ok(done as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer with no other end that could change it: waiting fails.
    struct Alone(PipeBuf);

    impl PipeLock for Alone {
        fn buf(&mut self) -> &mut PipeBuf {
            &mut self.0
        }
        fn wait(&mut self) -> KResult<()> {
            Err(Errno::EINTR)
        }
        fn changed(&mut self) {}
    }

    fn pipe(capacity: usize) -> Alone {
        let mut b = PipeBuf::new(capacity);
        b.readers = 1;
        b.writers = 1;
        Alone(b)
    }

    #[test]
    fn small_writes_are_whole_or_wait() {
        let mut p = pipe(1000);
        assert_eq!(write(&mut p, &[1; 600], true), Ok(600));
        assert_eq!(write(&mut p, &[2; 500], true), Err(Errno::EAGAIN));
        assert_eq!(write(&mut p, &[2; 500], false), Err(Errno::EINTR));
        assert_eq!(
            write(&mut p, &[3; 900], true),
            Ok(400),
            "big ones go in pieces"
        );
        assert_eq!(read(&mut p, 10_000, true).unwrap().len(), 1000);
        assert_eq!(read(&mut p, 10, true), Err(Errno::EAGAIN));
    }

    #[test]
    fn ends_that_are_gone() {
        let mut p = pipe(100);
        write(&mut p, b"abc", true).unwrap();
        p.0.writers = 0;
        assert_eq!(read(&mut p, 2, false).unwrap(), b"ab");
        assert_eq!(read(&mut p, 2, false).unwrap(), b"c");
        assert_eq!(read(&mut p, 2, false).unwrap(), b"", "EOF");
        p.0.readers = 0;
        assert_eq!(write(&mut p, b"x", false), Err(Errno::EPIPE));
    }
}

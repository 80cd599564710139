//! Where a file system lives: [`Disk`] is positional reads and writes
//! of a known size. [`KernelDisk`] reaches a device (or an image file)
//! inside the kernel through the client's syscalls; host files are
//! disks too, for checking an image from outside.

use crate::Client;
use netbsd_abi::ioctl::DIOCGMEDIASIZE;
use netbsd_abi::stat::{S_IFBLK, S_IFCHR, S_IFMT, S_IFREG};
use netbsd_abi::Errno;

/// Largest single transfer asked of the kernel.
const CHUNK: usize = 1 << 20;

/// Why a disk transfer failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskError {
    pub offset: u64,
    pub len: usize,
    pub errno: Option<Errno>,
}

impl std::fmt::Display for DiskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.errno {
            Some(e) => write!(f, "{} bytes at offset {}: {e}", self.len, self.offset),
            None => write!(
                f,
                "{} bytes at offset {}: end of device",
                self.len, self.offset
            ),
        }
    }
}

/// A block device or image: positional I/O of whole buffers.
pub trait Disk {
    /// Fills `buf` from byte `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError>;
    /// Writes all of `buf` at byte `offset`.
    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<(), DiskError>;
    /// Size in bytes.
    fn size(&self) -> u64;
}

/// What a path inside the kernel names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskKind {
    Block,
    Char,
    File,
}

/// A device or file opened inside the kernel.
pub struct KernelDisk<'a> {
    client: &'a Client,
    fd: i32,
    size: u64,
    pub kind: DiskKind,
}

impl<'a> KernelDisk<'a> {
    /// Opens `path` with `flags` (O_RDONLY or O_RDWR, maybe O_CREAT);
    /// the size is the device's media size or the file's length.
    pub fn open(
        client: &'a Client,
        path: &[u8],
        flags: i32,
        mode: u32,
    ) -> Result<KernelDisk<'a>, Errno> {
        let fd = client.open(path, flags, mode)?;
        match Self::describe(client, fd) {
            Ok((kind, size)) => Ok(KernelDisk {
                client,
                fd,
                size,
                kind,
            }),
            Err(e) => {
                let _ = client.close(fd);
                Err(e)
            }
        }
    }

    fn describe(client: &Client, fd: i32) -> Result<(DiskKind, u64), Errno> {
        let st = client.fstat(fd)?;
        let kind = match st.mode & S_IFMT {
            S_IFBLK => DiskKind::Block,
            S_IFCHR => DiskKind::Char,
            S_IFREG => DiskKind::File,
            _ => return Err(Errno::ENOTBLK),
        };
        if kind == DiskKind::File {
            return Ok((kind, u64::try_from(st.size).unwrap_or(0)));
        }
        let mut size = [0u8; 8];
        match client.ioctl(fd, DIOCGMEDIASIZE, &mut size) {
            Ok(_) => Ok((kind, u64::from_le_bytes(size))),
            Err(_) if st.size > 0 => Ok((kind, st.size as u64)),
            Err(e) => Err(e),
        }
    }

    /// Changes the length of an image file.
    pub fn set_len(&mut self, len: u64) -> Result<(), Errno> {
        self.client
            .ftruncate(self.fd, i64::try_from(len).map_err(|_| Errno::EFBIG)?)?;
        self.size = len;
        Ok(())
    }

    /// Pushes written data to the device.
    pub fn sync(&self) -> Result<(), Errno> {
        self.client.fsync(self.fd)
    }
}

impl Drop for KernelDisk<'_> {
    fn drop(&mut self) {
        let _ = self.client.close(self.fd);
    }
}

impl KernelDisk<'_> {
    /// Moves all of a buffer `len` bytes long at `offset`, at most
    /// [`CHUNK`] per call of `step(position, from, to)`, which returns
    /// how many bytes it moved.
    fn transfer(
        offset: u64,
        len: usize,
        mut step: impl FnMut(i64, usize, usize) -> Result<usize, Errno>,
    ) -> Result<(), DiskError> {
        let mut done = 0;
        while done < len {
            let end = len.min(done + CHUNK);
            let at = offset + done as u64;
            let err = |errno| DiskError {
                offset: at,
                len: end - done,
                errno,
            };
            let pos = i64::try_from(at).map_err(|_| err(Some(Errno::EINVAL)))?;
            match step(pos, done, end) {
                Ok(0) => return Err(err(None)),
                Ok(n) => done += n,
                Err(e) => return Err(err(Some(e))),
            }
        }
        Ok(())
    }

    fn pread_all(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let len = buf.len();
        Self::transfer(offset, len, |pos, from, to| {
            self.client.pread(self.fd, &mut buf[from..to], pos)
        })
    }

    fn pwrite_all(&self, offset: u64, buf: &[u8]) -> Result<(), DiskError> {
        Self::transfer(offset, buf.len(), |pos, from, to| {
            self.client.pwrite(self.fd, &buf[from..to], pos)
        })
    }

    /// The sector-aligned span covering `len` bytes at `offset`, when a
    /// raw device needs one and the request is not aligned already.
    fn span(&self, offset: u64, len: usize) -> Option<(u64, usize)> {
        let s = SECTOR;
        let aligned = offset % s == 0 && len as u64 % s == 0;
        if self.kind != DiskKind::Char || aligned {
            return None;
        }
        let start = offset - offset % s;
        let end = (offset + len as u64).next_multiple_of(s);
        Some((start, (end - start) as usize))
    }
}

/// Raw devices move whole sectors.
const SECTOR: u64 = 512;

impl Disk for KernelDisk<'_> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let Some((start, len)) = self.span(offset, buf.len()) else {
            return self.pread_all(offset, buf);
        };
        let mut whole = vec![0u8; len];
        self.pread_all(start, &mut whole)?;
        let skip = (offset - start) as usize;
        buf.copy_from_slice(&whole[skip..skip + buf.len()]);
        Ok(())
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<(), DiskError> {
        let Some((start, len)) = self.span(offset, buf.len()) else {
            return self.pwrite_all(offset, buf);
        };
        let mut whole = vec![0u8; len];
        self.pread_all(start, &mut whole)?;
        let skip = (offset - start) as usize;
        whole[skip..skip + buf.len()].copy_from_slice(buf);
        self.pwrite_all(start, &whole)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

impl Disk for std::fs::File {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset).map_err(|e| DiskError {
            offset,
            len: buf.len(),
            errno: (e.kind() != std::io::ErrorKind::UnexpectedEof).then(|| Errno::from_io(&e)),
        })
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<(), DiskError> {
        std::os::unix::fs::FileExt::write_all_at(self, buf, offset).map_err(|e| DiskError {
            offset,
            len: buf.len(),
            errno: Some(Errno::from_io(&e)),
        })
    }

    fn size(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }
}

//! Typed wrappers for the syscalls of a rump kernel.

use crate::conn::Client;
use crate::region::{cstring, Region};
use netbsd_abi::modctl::{ModStat, ModctlLoad, MODCTL_LOAD, MODCTL_STAT, MODCTL_UNLOAD};
use netbsd_abi::stat::Stat;
use netbsd_abi::sysctl::{SysctlNode, CTL_DESCRIBE, CTL_QUERY, SYSCTL_VERSION};
use netbsd_abi::sysno as nr;
use netbsd_abi::Errno;

/// The result of a sysctl call: its outcome and the length it reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysctlOutcome {
    pub result: Result<(), Errno>,
    /// `*oldlenp` after the call: the size of the value (or needed).
    pub oldlen: usize,
}

impl Client {
    /// getpid(2): this process's pid and its parent's.
    pub fn getpid(&self) -> Result<(i32, i32), Errno> {
        let r = self.syscall(nr::GETPID, &[], &mut [])?;
        Ok((r[0] as i32, r[1] as i32))
    }

    /// getppid(2).
    pub fn getppid(&self) -> Result<i32, Errno> {
        Ok(self.syscall(nr::GETPPID, &[], &mut [])?[0] as i32)
    }

    /// getuid(2): the real and effective uid.
    pub fn getuid(&self) -> Result<(u32, u32), Errno> {
        let r = self.syscall(nr::GETUID, &[], &mut [])?;
        Ok((r[0] as u32, r[1] as u32))
    }

    /// getgid(2): the real and effective gid.
    pub fn getgid(&self) -> Result<(u32, u32), Errno> {
        let r = self.syscall(nr::GETGID, &[], &mut [])?;
        Ok((r[0] as u32, r[1] as u32))
    }

    /// reboot(2) with RB_* flags; the server halts once it has answered.
    pub fn reboot(&self, howto: i32) -> Result<(), Errno> {
        self.syscall(nr::REBOOT, &[howto as u32 as u64, 0], &mut [])
            .map(|_| ())
    }

    /// read(2).
    pub fn read(&self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        let (addr, len) = (buf.as_ptr() as u64, buf.len() as u64);
        let r = self.syscall(nr::READ, &[fd as u64, addr, len], &mut [Region::Out(buf)])?;
        Ok(r[0] as usize)
    }

    /// write(2).
    pub fn write(&self, fd: i32, buf: &[u8]) -> Result<usize, Errno> {
        let (addr, len) = (buf.as_ptr() as u64, buf.len() as u64);
        let r = self.syscall(nr::WRITE, &[fd as u64, addr, len], &mut [Region::In(buf)])?;
        Ok(r[0] as usize)
    }

    /// open(2) with NetBSD flags.
    pub fn open(&self, path: &[u8], flags: i32, mode: u32) -> Result<i32, Errno> {
        let p = cstring(path);
        let r = self.syscall(
            nr::OPEN,
            &[p.as_ptr() as u64, flags as u32 as u64, mode as u64],
            &mut [Region::In(&p)],
        )?;
        Ok(r[0] as i32)
    }

    /// close(2).
    pub fn close(&self, fd: i32) -> Result<(), Errno> {
        self.syscall(nr::CLOSE, &[fd as u64], &mut []).map(|_| ())
    }

    /// dup(2).
    pub fn dup(&self, fd: i32) -> Result<i32, Errno> {
        Ok(self.syscall(nr::DUP, &[fd as u64], &mut [])?[0] as i32)
    }

    /// dup2(2).
    pub fn dup2(&self, from: i32, to: i32) -> Result<i32, Errno> {
        Ok(self.syscall(nr::DUP2, &[from as u64, to as u64], &mut [])?[0] as i32)
    }

    /// fcntl(2) with an integer argument.
    pub fn fcntl(&self, fd: i32, cmd: i32, arg: i64) -> Result<i64, Errno> {
        Ok(self.syscall(nr::FCNTL, &[fd as u64, cmd as u64, arg as u64], &mut [])?[0])
    }

    /// pipe(2): (read end, write end).
    pub fn pipe(&self) -> Result<(i32, i32), Errno> {
        let r = self.syscall(nr::PIPE, &[], &mut [])?;
        Ok((r[0] as i32, r[1] as i32))
    }

    /// pipe2(2).
    pub fn pipe2(&self, flags: i32) -> Result<(i32, i32), Errno> {
        let mut fds = [0u8; 8];
        let addr = fds.as_ptr() as u64;
        self.syscall(
            nr::PIPE2,
            &[addr, flags as u64],
            &mut [Region::Out(&mut fds)],
        )?;
        Ok((
            i32::from_le_bytes(fds[..4].try_into().unwrap()),
            i32::from_le_bytes(fds[4..].try_into().unwrap()),
        ))
    }

    /// fstat(2).
    pub fn fstat(&self, fd: i32) -> Result<Stat, Errno> {
        let mut b = [0u8; Stat::SIZE];
        let addr = b.as_ptr() as u64;
        self.syscall(nr::FSTAT50, &[fd as u64, addr], &mut [Region::Out(&mut b)])?;
        Ok(Stat::decode(&b))
    }

    /// ioctl(2) with an in/out parameter buffer.
    pub fn ioctl(&self, fd: i32, cmd: u64, data: &mut [u8]) -> Result<i64, Errno> {
        let addr = data.as_ptr() as u64;
        Ok(self.syscall(nr::IOCTL, &[fd as u64, cmd, addr], &mut [Region::Out(data)])?[0])
    }

    /// __nanosleep50.
    pub fn nanosleep(&self, d: std::time::Duration) -> Result<(), Errno> {
        let t = netbsd_abi::stat::Timespec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos() as i64,
        };
        let b = t.encode();
        self.syscall(
            nr::NANOSLEEP50,
            &[b.as_ptr() as u64, 0],
            &mut [Region::In(&b)],
        )
        .map(|_| ())
    }

    /// __sysctl(2): reads into `old` (if given) and writes `new` (if given).
    pub fn sysctl(
        &self,
        name: &[i32],
        old: Option<&mut [u8]>,
        new: Option<&[u8]>,
    ) -> SysctlOutcome {
        let name_bytes: Vec<u8> = name.iter().flat_map(|n| n.to_le_bytes()).collect();
        let mut oldlen = [0u8; 8];
        let mut regions = vec![Region::In(&name_bytes)];
        let (oldp, oldlenp) = match old {
            Some(buf) => {
                oldlen = (buf.len() as u64).to_le_bytes();
                let p = buf.as_ptr() as u64;
                regions.push(Region::Out(buf));
                (p, oldlen.as_ptr() as u64)
            }
            None => (0, oldlen.as_ptr() as u64),
        };
        let (newp, newlen) = match new {
            Some(b) => {
                regions.push(Region::In(b));
                (b.as_ptr() as u64, b.len() as u64)
            }
            None => (0, 0),
        };
        regions.push(Region::Out(&mut oldlen));
        let args = [
            name_bytes.as_ptr() as u64,
            name.len() as u64,
            oldp,
            oldlenp,
            newp,
            newlen,
        ];
        let result = self.syscall(nr::SYSCTL, &args, &mut regions).map(|_| ());
        drop(regions);
        SysctlOutcome {
            result,
            oldlen: u64::from_le_bytes(oldlen) as usize,
        }
    }

    /// The children of the sysctl node `prefix` (CTL_QUERY).
    pub fn sysctl_query(&self, prefix: &[i32]) -> Result<Vec<SysctlNode>, Errno> {
        let raw = self.sysctl_meta(prefix, CTL_QUERY)?;
        Ok(raw
            .chunks_exact(SysctlNode::SIZE)
            .map(SysctlNode::decode)
            .collect())
    }

    /// The descriptions of the children of `prefix` (CTL_DESCRIBE), as
    /// (number, text) pairs.
    pub fn sysctl_describe(&self, prefix: &[i32]) -> Result<Vec<(i32, String)>, Errno> {
        let mut name = prefix.to_vec();
        name.push(CTL_DESCRIBE);
        let probe = self.sysctl(&name, None, None);
        probe.result?;
        let mut buf = vec![0u8; probe.oldlen];
        let out = self.sysctl(&name, Some(&mut buf), None);
        out.result?;
        buf.truncate(out.oldlen);
        Ok(netbsd_abi::sysctl::decode_descs(&buf))
    }

    fn sysctl_meta(&self, prefix: &[i32], op: i32) -> Result<Vec<u8>, Errno> {
        let mut name = prefix.to_vec();
        name.push(op);
        let q = SysctlNode {
            flags: SYSCTL_VERSION,
            ..Default::default()
        }
        .encode();
        let mut size = self.sysctl(&name, None, Some(&q)).oldlen;
        loop {
            let mut buf = vec![0u8; size];
            let out = self.sysctl(&name, Some(&mut buf), Some(&q));
            match out.result {
                Ok(()) => {
                    buf.truncate(out.oldlen);
                    return Ok(buf);
                }
                Err(Errno::ENOMEM) if out.oldlen > size => size = out.oldlen,
                Err(e) => return Err(e),
            }
        }
    }

    /// modctl(MODCTL_STAT): every module and component of the kernel.
    pub fn modstat(&self) -> Result<Vec<ModStat>, Errno> {
        let mut len = 8192usize;
        loop {
            let mut buf = vec![0u8; len];
            let mut iov = [0u8; 16];
            iov[..8].copy_from_slice(&(buf.as_ptr() as u64).to_le_bytes());
            iov[8..].copy_from_slice(&(len as u64).to_le_bytes());
            let iov_addr = iov.as_ptr() as u64;
            self.syscall(
                nr::MODCTL,
                &[MODCTL_STAT as u64, iov_addr],
                &mut [Region::Out(&mut iov), Region::Out(&mut buf)],
            )?;
            let need = u64::from_le_bytes(iov[8..].try_into().unwrap()) as usize;
            if need <= len {
                return Ok(buf[..need]
                    .chunks_exact(ModStat::SIZE)
                    .map(ModStat::decode)
                    .collect());
            }
            len = need;
        }
    }

    /// modctl(MODCTL_LOAD): loads the module `name` (a path, or a name the
    /// kernel looks up in its module directory) with `flags`
    /// (MODCTL_LOAD_FORCE, MODCTL_NO_PROP).
    pub fn modload(&self, name: &[u8], flags: i32) -> Result<(), Errno> {
        let name = cstring(name);
        let args = ModctlLoad {
            filename: name.as_ptr() as u64,
            flags,
            props: 0,
            propslen: 0,
        }
        .encode();
        self.syscall(
            nr::MODCTL,
            &[MODCTL_LOAD as u64, args.as_ptr() as u64],
            &mut [Region::In(&args), Region::In(&name)],
        )
        .map(|_| ())
    }

    /// modctl(MODCTL_UNLOAD): unloads the module `name`.
    pub fn modunload(&self, name: &[u8]) -> Result<(), Errno> {
        let name = cstring(name);
        self.syscall(
            nr::MODCTL,
            &[MODCTL_UNLOAD as u64, name.as_ptr() as u64],
            &mut [Region::In(&name)],
        )
        .map(|_| ())
    }
}

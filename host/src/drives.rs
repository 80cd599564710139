//! Preparing `-d` host files and `-m` modules at start-up, through the
//! VFS faction (etfs), in NetBSD's order and with its messages.

use crate::disklabel;
use crate::drivespec::{DriveSpec, EtfsType, Size};
use crate::kern::kernel;
use netbsd_abi::Errno;
use rump_plugin_api::vfs::EtfsType as AbiEtfs;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

/// A start-up step that failed: the message and the errno.
#[derive(Debug)]
pub struct SetupError {
    pub message: String,
    pub errno: Errno,
}

fn fail(reason: &str, errno: Errno) -> SetupError {
    SetupError {
        message: format!("{reason}: {errno}"),
        errno,
    }
}

fn needs_vfs(what: &str, reason: &str) -> SetupError {
    SetupError {
        message: format!(
            "{reason}: {} ({what} needs the VFS faction: start the server with -lrumpvfs)",
            Errno::ENOSYS
        ),
        errno: Errno::ENOSYS,
    }
}

/// The key under which `-m` modules are mapped while they load.
const MODULE_KEY: &str = "/module.mod";

/// Loads each `-m` module through etfs and the kernel's VFS. (NetBSD loads
/// the first module once for every `-m`; each is loaded here.)
pub fn load_modules(mods: &[String]) -> Result<(), SetupError> {
    if mods.is_empty() {
        return Ok(());
    }
    let Some(vfs) = kernel().factions.vfs() else {
        return Err(needs_vfs(
            "loading a module",
            &format!("module load failed: {}", mods[0]),
        ));
    };
    for m in mods {
        vfs.etfs_register(
            MODULE_KEY.into(),
            m.as_str().into(),
            AbiEtfs::Reg,
            0,
            u64::MAX,
        )
        .into_result()
        .map_err(|e| fail("module etfs register failed", e))?;
        let loaded = vfs
            .read_file(MODULE_KEY.as_bytes().into())
            .into_result()
            .and_then(|bytes| {
                kernel()
                    .modules
                    .load_module(std::path::Path::new(m), &bytes)
            });
        let _ = vfs.etfs_remove(MODULE_KEY.into());
        loaded.map_err(|e| fail(&format!("module load failed: {m}"), e))?;
    }
    Ok(())
}

/// Maps each `-d` host file: opens (and creates) it, finds the disklabel
/// partition, takes its size, extends it when short, and registers it.
pub fn map_drives(drives: &[DriveSpec]) -> Result<(), SetupError> {
    if drives.is_empty() {
        return Ok(());
    }
    let Some(vfs) = kernel().factions.vfs() else {
        return Err(needs_vfs(
            "mapping host files",
            &format!("etfs register: {}", drives[0].key),
        ));
    };
    for d in drives {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(d.size != Size::Host)
            .mode(0o644)
            .open(&d.hostpath)
            .map_err(|e| fail("etfs hostpath open", Errno::from_io(&e)))?;
        let (mut offset, mut size) = (
            d.offset,
            match d.size {
                Size::Bytes(n) => n,
                Size::Host => 0,
            },
        );
        if let Some(part) = d.partition {
            let mut head = Vec::new();
            (&mut file)
                .take(65536)
                .read_to_end(&mut head)
                .map_err(|e| fail("could not read disk device", Errno::from_io(&e)))?;
            let w = disklabel::find(&head, part).map_err(|e| fail(e.reason, e.errno))?;
            (offset, size) = (w.offset, w.size);
        }
        let meta = file
            .metadata()
            .map_err(|e| fail("fstat etfs hostpath", Errno::from_io(&e)))?;
        if d.size == Size::Host {
            if meta.len() == 0 {
                return Err(fail(
                    "size=host, but cannot query non-zero size",
                    Errno::EINVAL,
                ));
            }
            size = meta.len();
        }
        let end = offset
            .checked_add(size)
            .ok_or_else(|| fail("truncate", Errno::EFBIG))?;
        if meta.file_type().is_file() && meta.len() < end {
            file.set_len(end)
                .map_err(|e| fail("truncate", Errno::from_io(&e)))?;
        }
        drop(file);
        let (ftype, size) = match d.ftype {
            EtfsType::Blk => (AbiEtfs::Blk, size),
            EtfsType::Chr => (AbiEtfs::Chr, size),
            // A regular file without a size follows the host file's size.
            EtfsType::Reg if size == 0 && d.partition.is_none() => (AbiEtfs::Reg, u64::MAX),
            EtfsType::Reg => (AbiEtfs::Reg, size),
        };
        vfs.etfs_register(
            d.key.as_str().into(),
            d.hostpath.as_str().into(),
            ftype,
            offset,
            size,
        )
        .into_result()
        .map_err(|e| fail("etfs register", e))?;
    }
    Ok(())
}

//! Disk partitions for the rump kernel (`librumpdev_disk.so`, NetBSD's
//! `-lrumpdev_disk`).
//!
//! The component `disk` registers a partition scanner with the kernel.
//! The VFS faction (`rumpvfs`) shows it every block device attached with
//! `-d`, and makes a block device node for each partition it reports,
//! next to the disk's key: with `-d key=/dev/wd0,...` a disklabel's
//! partitions appear as `/dev/wd0a`, `/dev/wd0b`, ..., an MBR's as
//! `/dev/wd0e` on, a GPT's as `/dev/wd0p1` on (see [`scan`] for the
//! rules), so that a file system on a partition mounts without
//! computing offsets.
//!
//! | module | job |
//! |---|---|
//! | [`media`] | reading the disk by sectors, within bounds |
//! | [`notes`] | the log lines a scan produces |
//! | [`crc32`] | the CRC GPT headers and entry arrays carry |
//! | [`mbr`] | the MBR and its chain of EBRs |
//! | [`disklabel`] | the NetBSD disklabel |
//! | [`gpt`] | the GUID partition table, primary or backup |
//! | [`scan`] | which table decides, names, and the checks on every partition |
#![deny(unsafe_code)]

pub mod crc32;
pub mod disklabel;
pub mod gpt;
pub mod mbr;
pub mod media;
pub mod notes;
pub mod scan;

use rump_plugin_api::disk::{DiskScanner, Partition};
use rump_plugin_api::vfs::DeviceObj;
use rump_plugin_api::{export_plugin, Component, ComponentClass, KResult, Kernel};

/// The scanner the component registers.
struct Scanner {
    kernel: Kernel,
}

impl DiskScanner for Scanner {
    fn name(&self) -> &str {
        "disk"
    }

    fn scan(&self, name: &str, disk: &DeviceObj) -> KResult<Vec<Partition>> {
        let mut notes = notes::Notes::default();
        let sector = u64::from(disk.sector_size());
        let found = scan::scan(disk, sector, &mut notes);
        for (warning, line) in notes.into_lines() {
            if warning {
                self.kernel.warn(&format!("{name}: {line}"));
            } else {
                self.kernel.info(&format!("{name}: {line}"));
            }
        }
        found
    }
}

fn components() -> Vec<Component> {
    vec![
        Component::new("disk", env!("CARGO_PKG_VERSION"), ComponentClass::Dev)
            .description("disk partitions: NetBSD disklabel, MBR and GPT as block devices")
            .requires("rumpvfs", rump_plugin_api::component::VFS_REQUIREMENT)
            .on_init(|kernel| {
                kernel
                    .register_disk_scanner(Scanner {
                        kernel: kernel.clone(),
                    })
                    .map_err(|e| format!("registering the partition scanner: {e}"))
            }),
    ]
}

export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dev_component_that_needs_the_vfs() {
        let d = components()
            .into_iter()
            .map(Component::into_desc)
            .next()
            .unwrap();
        assert_eq!(d.name.as_str(), "disk");
        assert_eq!(d.class, ComponentClass::Dev);
        assert_eq!(d.requires[0].name.as_str(), "rumpvfs");
    }
}

//! The `rumpkern` component: the core syscalls and the base sysctl nodes.

use super::module::BuiltinComponent;
use super::sysctl::{Computed, Const, Leaf, StringVar};
use super::{
    kernel, sched, syscalls, MACHINE, MACHINE_ARCH, OSRELEASE, OSREVISION, OSTYPE, PHYSMEM,
};
use netbsd_abi::limits::{MAXHOSTNAMELEN, PAGE_SIZE};
use netbsd_abi::sysctl::*;
use rump_plugin_api::{ComponentClass, Kernel, SysctlData};
use std::sync::Arc;

inventory::submit! {
    BuiltinComponent {
        name: "rumpkern",
        version: env!("CARGO_PKG_VERSION"),
        class: ComponentClass::Faction,
        description: "kernel core: processes, descriptors, pipes, sysctl, modules",
        init,
    }
}

fn string(s: &str) -> SysctlData {
    SysctlData::String {
        value: s.into(),
        capacity: s.len() as u64 + 1,
    }
}

/// The kernel version string (`kern.version`).
pub fn version() -> String {
    format!(
        "{OSTYPE} {OSRELEASE} (RUMP) rump-host {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The initial host name: `rump-<pid>.<host name>`.
pub fn initial_hostname() -> String {
    let pid = std::process::id();
    match crate::sys::hostname() {
        Some(h) if !h.is_empty() => format!("rump-{pid:05}.{h}"),
        _ => format!("rump-{pid:05}"),
    }
}

fn init(_k: &Kernel) -> Result<(), String> {
    syscalls::register("rumpkern").map_err(|e| format!("registering syscalls: {e}"))?;
    let ncpu = sched::ncpu() as i32;
    type Node = (
        &'static [&'static str],
        &'static str,
        i32,
        &'static str,
        bool,
        Arc<dyn Leaf>,
    );
    let nodes: Vec<Node> = vec![
        (
            &["kern"],
            "ostype",
            KERN_OSTYPE,
            "Name of the operating system",
            false,
            Arc::new(Const(string(OSTYPE))),
        ),
        (
            &["kern"],
            "osrelease",
            KERN_OSRELEASE,
            "Release of the operating system",
            false,
            Arc::new(Const(string(OSRELEASE))),
        ),
        (
            &["kern"],
            "osrevision",
            KERN_OSREV,
            "Revision of the operating system",
            false,
            Arc::new(Const(SysctlData::Int(OSREVISION))),
        ),
        (
            &["kern"],
            "version",
            KERN_VERSION,
            "Version of this kernel",
            false,
            Arc::new(Const(string(&version()))),
        ),
        (
            &["kern"],
            "hostname",
            KERN_HOSTNAME,
            "Name of this host",
            true,
            Arc::new(StringVar::new(initial_hostname(), MAXHOSTNAMELEN as u64)),
        ),
        (
            &["kern"],
            "domainname",
            KERN_DOMAINNAME,
            "Domain name of this host",
            true,
            Arc::new(StringVar::new(String::new(), MAXHOSTNAMELEN as u64)),
        ),
        (
            &["hw"],
            "machine",
            HW_MACHINE,
            "Machine class",
            false,
            Arc::new(Const(string(MACHINE))),
        ),
        (
            &["hw"],
            "model",
            HW_MODEL,
            "Machine model",
            false,
            Arc::new(Const(string("rumpcore (virtual)"))),
        ),
        (
            &["hw"],
            "ncpu",
            HW_NCPU,
            "Number of virtual CPUs",
            false,
            Arc::new(Const(SysctlData::Int(ncpu))),
        ),
        (
            &["hw"],
            "byteorder",
            HW_BYTEORDER,
            "Byte order",
            false,
            Arc::new(Const(SysctlData::Int(1234))),
        ),
        (
            &["hw"],
            "physmem",
            HW_PHYSMEM,
            "Bytes of physical memory",
            false,
            Arc::new(Const(SysctlData::Int(PHYSMEM.min(u32::MAX as u64) as i32))),
        ),
        (
            &["hw"],
            "pagesize",
            HW_PAGESIZE,
            "Page size in bytes",
            false,
            Arc::new(Const(SysctlData::Int(PAGE_SIZE as i32))),
        ),
        (
            &["hw"],
            "machine_arch",
            HW_MACHINE_ARCH,
            "Machine CPU class",
            false,
            Arc::new(Const(string(MACHINE_ARCH))),
        ),
        (
            &["hw"],
            "physmem64",
            HW_PHYSMEM64,
            "Bytes of physical memory",
            false,
            Arc::new(Const(SysctlData::Quad(PHYSMEM as i64))),
        ),
        (
            &["hw"],
            "ncpuonline",
            HW_NCPUONLINE,
            "Number of virtual CPUs online",
            false,
            Arc::new(Const(SysctlData::Int(ncpu))),
        ),
        (
            &["vm"],
            "memlimit",
            1024,
            "Kernel memory limit in bytes (0: none)",
            false,
            Arc::new(Const(SysctlData::Quad(
                kernel().mem.limit().unwrap_or(0) as i64
            ))),
        ),
        (
            &["vm"],
            "memused",
            1025,
            "Kernel memory charged against the limit, in bytes",
            false,
            Arc::new(Computed(|| SysctlData::Quad(kernel().mem.used() as i64))),
        ),
    ];
    for (parent, name, num, desc, rw, leaf) in nodes {
        kernel()
            .sysctl
            .add_leaf(parent, name, Some(num), desc, rw, leaf)
            .map_err(|e| format!("sysctl {}.{name}: {e}", parent.join(".")))?;
    }
    Ok(())
}

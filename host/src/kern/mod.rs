//! The kernel core (the "kern" faction): processes, descriptors, the
//! syscall table, sysctl, modules, virtual CPUs, memory accounting and
//! halting. It is always present.

pub mod base;
pub mod console;
pub mod factions;
pub mod fd;
pub mod fdops;
pub mod mem;
pub mod module;
pub mod pipe;
pub mod pool;
pub mod proc;
pub mod reboot;
pub mod sched;
pub mod services;
pub mod syscalls;
pub mod sysctl;
pub mod systable;

use crate::config::BootConfig;
use netbsd_abi::stat::Timespec;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::OnceLock;

/// NetBSD's `ostype`.
pub const OSTYPE: &str = "NetBSD";
/// The NetBSD release whose syscall ABI the kernel serves.
pub const OSRELEASE: &str = "7.99.34";
/// `__NetBSD_Version__` of that release.
pub const OSREVISION: i32 = 799_003_400;
/// `MACHINE`.
pub const MACHINE: &str = "amd64";
/// `MACHINE_ARCH`.
pub const MACHINE_ARCH: &str = "x86_64";
/// What `hw.physmem64` reports, whatever the memory limit (as NetBSD).
pub const PHYSMEM: u64 = 512 << 20;

/// The kernel: everything the syscalls share.
pub struct Kernel {
    pub config: BootConfig,
    pub boot_time: Timespec,
    pub mem: mem::MemAccount,
    pub procs: proc::ProcTable,
    pub syscalls: systable::SyscallTable,
    pub sysctl: sysctl::SysctlTree,
    pub modules: module::Modules,
    pub factions: factions::Factions,
    /// The unix socket to remove when the kernel halts.
    socket_path: Mutex<Option<PathBuf>>,
}

static KERNEL: OnceLock<Kernel> = OnceLock::new();

/// The running kernel.
///
/// # Panics
/// Before [`boot`].
pub fn kernel() -> &'static Kernel {
    KERNEL.get().expect("kernel not booted")
}

/// Creates the kernel. Components are activated separately, once they
/// have all been registered ([`module::Modules::activate_all`]).
pub fn boot(config: BootConfig) -> &'static Kernel {
    sched::init(config.ncpu);
    let k = Kernel {
        mem: mem::MemAccount::new(config.memlimit),
        config,
        boot_time: Timespec::now(),
        procs: proc::ProcTable::new(),
        syscalls: systable::SyscallTable::new(),
        sysctl: sysctl::SysctlTree::new(),
        modules: module::Modules::new(),
        factions: factions::Factions::default(),
        socket_path: Mutex::new(None),
    };
    if KERNEL.set(k).is_err() {
        panic!("kernel booted twice");
    }
    kernel()
}

impl Kernel {
    /// Remembers the unix socket to remove at halt.
    pub fn set_socket_path(&self, path: Option<PathBuf>) {
        *self.socket_path.lock() = path;
    }

    /// Removes the unix socket, if there is one.
    pub fn remove_socket(&self) {
        if let Some(p) = self.socket_path.lock().take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

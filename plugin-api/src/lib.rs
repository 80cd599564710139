//! The stable ABI between a rump kernel and its components.
//!
//! A component library (a `cdylib` loaded with `-l`, or a module loaded
//! with `-m`) exports one root module listing the components it provides.
//! Each component names itself, its version, its class and the components
//! it requires, and has an init entry that receives a [`Kernel`]: the
//! handle through which it registers syscalls and sysctl nodes, accounts
//! kernel memory and logs.
//!
//! Component authors use the Rust-side types of this crate ([`Component`],
//! [`File`], [`Lwp`], closures for syscalls) and the [`export_plugin!`]
//! macro. The `abi_stable` trait objects underneath are what crosses the
//! library boundary; every call from the kernel into a component passes
//! through a panic guard on the component's side, so a panic becomes an
//! errno and a log line instead of bringing the server down.
//!
//! The API version is this crate's version. A kernel refuses a library
//! built against an incompatible version (a different major version, or a
//! different minor version before 1.0) with one line naming both.
#![allow(non_local_definitions)] // emitted by #[sabi_trait]
#![deny(unsafe_code)]

pub mod component;
pub mod disk;
pub mod ffi;
pub mod file;
pub mod guard;
pub mod kernel;
pub mod lwp;
pub mod mem;
pub mod pipe;
pub mod root;
pub mod syscall;
pub mod sysctl;
pub mod version;
pub mod vfs;

pub use abi_stable;
pub use component::{Component, ComponentClass, Requirement};
pub use file::{File, FileKind, FileObj, OpenFile};
pub use kernel::{kernel, Kernel, LogLevel};
pub use lwp::Lwp;
pub use netbsd_abi as abi;
pub use netbsd_abi::Errno;
pub use root::{PluginMod, PluginModRef};
pub use syscall::{Args, SysRet};
pub use sysctl::SysctlData;

/// The version of this API, as components are built against it.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Result of an operation that fails with a NetBSD errno.
pub type KResult<T> = Result<T, Errno>;

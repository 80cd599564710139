//! rump_server and rump_allserver: a rump kernel in a host process that
//! serves its system calls to clients over the sysproxy protocol.
//!
//! Code map:
//! - [`app`]: the program (options → libraries → detach → boot → listen).
//! - [`cli`], [`drivespec`], [`config`]: the command line and environment.
//! - [`loader`]: component libraries and the plugin directory.
//! - [`daemon`]: detaching with NetBSD's status-word protocol.
//! - [`kern`]: the kernel core: processes, descriptors, syscalls, sysctl,
//!   modules, virtual CPUs, memory, halting.
//! - [`sp`]: the sysproxy server: listener, connections, copy requests.
//! - [`sys`]: the host system calls beyond std (the crate's only unsafe).
//! - [`log`]: the log format.
#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod disklabel;
pub mod drives;
pub mod drivespec;
pub mod kern;
pub mod loader;
pub mod log;
pub mod sp;
pub mod sys;

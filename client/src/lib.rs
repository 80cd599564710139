//! A client of rump kernels, in the role of NetBSD's librumpclient.
//!
//! [`Client::from_env`] connects to the server named by `RUMP_SERVER`
//! (or takes over the connection an exec'ing parent left), performs the
//! handshake, and then sends NetBSD syscalls with [`Client::syscall`] or
//! the typed wrappers in [`sys`]. While a syscall runs, the server reads
//! and writes the caller's memory through copy requests; this library
//! serves them from the buffers the caller handed to that syscall
//! ([`Region`]), and nowhere else, so a server cannot reach memory it was
//! not given. Several threads may share one [`Client`]: each syscall's
//! reply and copy requests reach the thread that made it.
//!
//! Errors are NetBSD errno values ([`Errno`]), including those that
//! describe the connection itself (ENOTCONN when the server has gone).
#![deny(unsafe_code)]

mod conn;
pub mod env;
mod error;
mod fs;
mod inherit;
mod region;
mod spin;
pub mod sys;
pub mod tools;

pub use conn::{Client, ForkCookie};
pub use error::ConnectError;
pub use netbsd_abi as abi;
pub use netbsd_abi::Errno;
pub use region::Region;

//! The sysproxy server: the listener, client connections and the
//! execution of their syscalls.

pub mod conn;
pub mod lwp;
pub mod server;
pub mod stream;

//! The rump.* tools, run through one multi-call binary (`rump`) that
//! dispatches on the name it was started under (`rump.halt`, ...) or on
//! its first argument (`rump halt ...`).

mod cat;
mod chmod;
mod chown;
mod clock;
mod common;
mod copy;
mod cp;
mod df;
pub mod fsck_ffs;
mod fsops;
mod get;
pub mod getopt;
mod halt;
mod ln;
mod ls;
mod mkdir;
mod modes;
mod modload;
mod modstat;
mod modunload;
mod mount;
mod mv;
mod newfs;
mod newfs_ext2fs;
mod newfs_msdos;
mod numbers;
mod put;
mod rm;
mod rmdir;
mod stat;
mod sysctl;
pub mod ufs;
mod umount;

use crate::{Client, ConnectError};

/// A tool's entry point: (program name, arguments) to exit status.
pub type ToolMain = fn(&str, &[String]) -> i32;

/// The tools and their entry points.
pub const TOOLS: &[(&str, ToolMain)] = &[
    ("cat", cat::main),
    ("chmod", chmod::main),
    ("chown", chown::main),
    ("cp", cp::main),
    ("df", df::main),
    ("fsck_ffs", fsck_ffs::main),
    ("get", get::main),
    ("halt", halt::main),
    ("ln", ln::main),
    ("ls", ls::main),
    ("mkdir", mkdir::main),
    ("modload", modload::main),
    ("modstat", modstat::main),
    ("modunload", modunload::main),
    ("mount", mount::main),
    ("mv", mv::main),
    ("newfs", newfs::main),
    ("newfs_ext2fs", newfs_ext2fs::main),
    ("newfs_msdos", newfs_msdos::main),
    ("put", put::main),
    ("rm", rm::main),
    ("rmdir", rmdir::main),
    ("stat", stat::main),
    ("sysctl", sysctl::main),
    ("umount", umount::main),
];

/// Runs tool `name` as `prog` with `args`; returns the exit status.
pub fn run(name: &str, args: &[String]) -> Option<i32> {
    let prog = format!("rump.{name}");
    TOOLS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, main)| main(&prog, args))
}

/// Connects the way librumpclient's tools do, printing their diagnostics
/// on failure.
pub fn connect(prog: &str) -> Result<Client, i32> {
    Client::from_env().map_err(|e| {
        if let ConnectError::NoServer = e {
            eprintln!("error: RUMP_SERVER not set");
        }
        eprintln!("{prog}: init failed: {}", e.errno());
        1
    })
}

//! The rump.* tools, run through one multi-call binary (`rump`) that
//! dispatches on the name it was started under (`rump.halt`, ...) or on
//! its first argument (`rump halt ...`).

pub mod getopt;
mod halt;
mod modstat;
mod sysctl;

use crate::{Client, ConnectError};

/// A tool's entry point: (program name, arguments) to exit status.
pub type ToolMain = fn(&str, &[String]) -> i32;

/// The tools and their entry points.
pub const TOOLS: &[(&str, ToolMain)] = &[
    ("halt", halt::main),
    ("modstat", modstat::main),
    ("sysctl", sysctl::main),
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

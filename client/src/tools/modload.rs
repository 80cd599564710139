//! rump.modload [-fP] module: loads a module into the kernel of the server
//! in RUMP_SERVER, as modload(8). `module` is a path inside the kernel's
//! file systems or the name of a module in its module directory.

use super::getopt::{getopt, Opt};
use netbsd_abi::modctl::{MODCTL_LOAD_FORCE, MODCTL_NO_PROP};

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = || {
        eprintln!("usage: {prog} [-fP] <module_name>");
        1
    };
    let (opts, rest) = match getopt(args, "fP") {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return usage();
        }
    };
    let [module] = rest.as_slice() else {
        return usage();
    };
    let mut flags = 0;
    for o in opts {
        flags |= match o {
            Opt::Flag('f') => MODCTL_LOAD_FORCE,
            Opt::Flag('P') => MODCTL_NO_PROP,
            _ => 0,
        };
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match client.modload(module.as_bytes(), flags) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{prog}: {module}: {e}");
            1
        }
    }
}

//! rump.modunload name: unloads a module from the kernel of the server in
//! RUMP_SERVER, as modunload(8).

use super::getopt::getopt;

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = || {
        eprintln!("usage: {prog} <module_name>");
        1
    };
    let rest = match getopt(args, "") {
        Ok((_, rest)) => rest,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return usage();
        }
    };
    let [module] = rest.as_slice() else {
        return usage();
    };
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match client.modunload(module.as_bytes()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{prog}: {module}: {e}");
            1
        }
    }
}

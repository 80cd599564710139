//! rump.halt [-dhn]: halts the kernel of the server in RUMP_SERVER.

use super::getopt::{getopt, Opt};
use netbsd_abi::reboot::{RB_DUMP, RB_HALT, RB_NOSYNC};

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = || {
        eprintln!("usage: {prog} [-dhn]");
        1
    };
    let (opts, rest) = match getopt(args, "dhn") {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return usage();
        }
    };
    if !rest.is_empty() {
        return usage();
    }
    let mut howto = 0;
    for o in opts {
        howto |= match o {
            Opt::Flag('d') => RB_DUMP,
            Opt::Flag('h') => RB_HALT,
            Opt::Flag('n') => RB_NOSYNC,
            _ => 0,
        };
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match client.reboot(howto) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{prog}: reboot: {e}");
            1
        }
    }
}

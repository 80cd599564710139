//! rump.modstat [-Aaek] [-n name] [name]: lists the kernel's modules and
//! components in modstat(8)'s format.

use super::getopt::{getopt, Opt};
use netbsd_abi::modctl::MODCTL_EXISTS;
use netbsd_abi::sysno as nr;
use netbsd_abi::Errno;

const CLASSES: [&str; 6] = ["any", "misc", "vfs", "driver", "exec", "secmodel"];
const SOURCES: [&str; 3] = ["builtin", "boot", "filesys"];
const FLAGS: [&str; 4] = ["-", "f", "a", "af"];

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = || {
        eprintln!("Usage: {prog} [-Aaen] [name]");
        1
    };
    let (opts, rest) = match getopt(args, "Aaekn:") {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return usage();
        }
    };
    let (mut name, mut loadable, mut address) = (None, None, false);
    for o in opts {
        match o {
            Opt::Flag(c @ ('A' | 'a' | 'e')) => loadable = Some(c),
            Opt::Flag('k') => address = true,
            Opt::Arg('n', v) => name = Some(v),
            _ => {}
        }
    }
    match (rest.len(), &name) {
        (0, _) => {}
        (1, None) => name = Some(rest[0].clone()),
        _ => return usage(),
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    if let Some(which) = loadable {
        let arg = if which == 'e' { 0 } else { 1 };
        return match client.syscall(nr::MODCTL, &[MODCTL_EXISTS as u64, arg], &mut []) {
            Err(Errno::ENOSYS) => {
                eprintln!("{prog}: The kernel was compiled without options MODULAR.");
                1
            }
            Err(Errno::EPERM) if which == 'e' => {
                eprintln!("{prog}: You are not allowed to load modules right now.");
                1
            }
            Err(Errno::EPERM) => {
                eprintln!("{prog}: Modules can not be autoloaded right now.");
                1
            }
            Err(e) => {
                eprintln!("{prog}: modctl_exists for autoload: {e}");
                1
            }
            Ok(_) if which == 'e' => {
                eprintln!("{prog}: You can load modules.");
                0
            }
            Ok(_) => {
                eprintln!("{prog}: Modules can be autoloaded.");
                0
            }
        };
    }
    let mut mods = match client.modstat() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{prog}: modctl(MODCTL_STAT): {e}");
            return 1;
        }
    };
    mods.sort_by(|a, b| a.name.cmp(&b.name));
    let w = mods.iter().map(|m| m.name.len()).max().unwrap_or(0).max(16);
    let mut out = format!(
        "{:<w$} {:<8} {:<8} {:<4} {:<5} ",
        "NAME", "CLASS", "SOURCE", "FLAG", "REFS"
    );
    if address {
        out += &format!("{:<16} ", "ADDRESS");
    }
    out += &format!("{:<7} {} \n", "SIZE", "REQUIRES");
    for m in mods
        .iter()
        .filter(|m| name.as_ref().is_none_or(|n| *n == m.name))
    {
        let class = usize::try_from(m.class)
            .ok()
            .and_then(|c| CLASSES.get(c))
            .unwrap_or(&"UNKNOWN");
        let source = usize::try_from(m.source)
            .ok()
            .and_then(|s| SOURCES.get(s))
            .unwrap_or(&"UNKNOWN");
        let size = if m.size == 0 {
            "-".to_string()
        } else {
            m.size.to_string()
        };
        let req = if m.required.is_empty() {
            "-"
        } else {
            &m.required
        };
        out += &format!(
            "{:<w$} {:<8} {:<8} {:<4} {:<5} ",
            m.name,
            class,
            source,
            FLAGS[(m.flags & 3) as usize],
            m.refcnt
        );
        if address {
            out += &format!("{:<16x} ", m.addr);
        }
        out += &format!("{size:<7} {req}\n");
    }
    print!("{out}");
    0
}

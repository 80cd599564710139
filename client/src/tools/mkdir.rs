//! rump.mkdir [-p] [-m mode] directory ...: makes kernel directories, as
//! mkdir(1): -p makes missing parents, -m sets the mode (octal or
//! symbolic, relative to a=rwx).

use super::common::{is_dir, parse_args, show, usage, warn, warnx};
use super::getopt::Opt;
use super::modes::parse_mode;
use crate::Client;
use netbsd_abi::Errno;

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("usage: {prog} [-p] [-m mode] dirname ...\n");
    let (opts, dirs) = match parse_args(prog, args, "m:p", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let mut parents = false;
    let mut mode = None;
    for o in opts {
        match o {
            Opt::Flag('p') => parents = true,
            Opt::Arg('m', m) => match parse_mode(&m, 0) {
                Some(c) => mode = Some(c.apply(0o777)),
                None => {
                    warnx(
                        prog,
                        format!("Cannot set file mode `{m}': {}", Errno::EINVAL),
                    );
                    return 1;
                }
            },
            _ => {}
        }
    }
    if dirs.is_empty() {
        return usage(&text);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    // As mkdir(1): apply the umask here and then clear it, so that an
    // explicit -m mode is used as given; the intermediate directories of
    // -p get the default mode plus u+wx, whatever -m says.
    let umask = client.umask(0).unwrap_or(0o022);
    let default = 0o777 & !umask;
    let mode = mode.unwrap_or(default);
    let mut ok = true;
    for d in &dirs {
        ok &= if parents {
            make_path(&client, prog, d.as_bytes(), mode, default | 0o300)
        } else {
            make_one(&client, prog, d.as_bytes(), mode)
        };
    }
    i32::from(!ok)
}

/// mkdir(2), then chmod(2) if the mode has bits mkdir ignores.
fn make_one(client: &Client, prog: &str, d: &[u8], mode: u32) -> bool {
    let r = client.mkdir(d, mode).and_then(|()| {
        if mode & !0o777 != 0 {
            client.chmod(d, mode)
        } else {
            Ok(())
        }
    });
    r.map_err(|e| warn(prog, d, e)).is_ok()
}

/// The prefixes of `p` that mkdir -p creates, in order: each ends at a
/// component (runs of slashes are kept inside).
fn prefixes(p: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        while i < p.len() && p[i] == b'/' {
            i += 1;
        }
        while i < p.len() && p[i] != b'/' {
            i += 1;
        }
        out.push(&p[..i]);
    }
    out
}

/// mkdir -p: makes each missing component, the last with `mode` and
/// the intermediate ones with `dir_mode`.
fn make_path(client: &Client, prog: &str, p: &[u8], mode: u32, dir_mode: u32) -> bool {
    let parts = prefixes(p);
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match client.mkdir(part, if last { mode } else { dir_mode }) {
            Ok(()) if last && mode & !0o777 != 0 => {
                if let Err(e) = client.chmod(part, mode) {
                    warn(prog, part, e);
                    return false;
                }
            }
            Ok(()) => {}
            Err(e) => match client.stat(part) {
                Err(_) => {
                    warn(prog, part, e);
                    return false;
                }
                Ok(st) if !is_dir(st.mode) => {
                    warn(prog, part, Errno::ENOTDIR);
                    return false;
                }
                Ok(_) => {}
            },
        }
    }
    if parts.is_empty() {
        warnx(prog, format!("{}: {}", show(p), Errno::ENOENT));
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prefixes() {
        assert_eq!(prefixes(b"a/b/c"), [&b"a"[..], b"a/b", b"a/b/c"]);
        assert_eq!(prefixes(b"/x//y/"), [&b"/x"[..], b"/x//y", b"/x//y/"]);
        assert_eq!(prefixes(b"/"), [&b"/"[..]]);
        assert!(prefixes(b"").is_empty());
    }

    #[test]
    fn mode_operand() {
        let m = parse_mode("u=rwx,go=rx", 0).unwrap().apply(0o777);
        assert_eq!(m, 0o755);
        assert_eq!(parse_mode("a-w", 0).unwrap().apply(0o777), 0o555);
    }
}

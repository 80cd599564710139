//! rump.rmdir [-p] directory ...: removes empty kernel directories, as
//! rmdir(1); -p removes the emptied parents named in the path as well.

use super::common::{parse_args, usage, warn};
use super::getopt::Opt;
use crate::Client;

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("usage: {prog} [-p] directory ...\n");
    let (opts, dirs) = match parse_args(prog, args, "p", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let parents = opts.contains(&Opt::Flag('p'));
    if dirs.is_empty() {
        return usage(&text);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut ok = true;
    for d in &dirs {
        match client.rmdir(d.as_bytes()) {
            Ok(()) if parents => ok &= remove_parents(&client, prog, d.as_bytes()),
            Ok(()) => {}
            Err(e) => {
                warn(prog, d.as_bytes(), e);
                ok = false;
            }
        }
    }
    i32::from(!ok)
}

/// The parents rmdir -p removes after `p`, nearest first.
fn parents(p: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut end = p.len();
    while let Some(i) = p[..end].iter().rposition(|&c| c == b'/') {
        if i + 1 < end && i > 0 {
            out.push(&p[..i]);
        }
        end = i;
    }
    out
}

fn remove_parents(client: &Client, prog: &str, p: &[u8]) -> bool {
    for parent in parents(p) {
        if let Err(e) = client.rmdir(parent) {
            warn(prog, parent, e);
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_list() {
        assert_eq!(parents(b"a/b/c"), [&b"a/b"[..], b"a"]);
        assert_eq!(parents(b"a/b/"), [&b"a"[..]]);
        assert!(parents(b"a").is_empty());
        assert!(parents(b"/a").is_empty());
    }
}

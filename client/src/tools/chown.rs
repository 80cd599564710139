//! rump.chown [-R] [-fhv] owner[:group] file ...: changes kernel file
//! owners, as chown(8). Owners and groups are numbers ("#n" too) or the
//! names the kernel knows: root (uid 0) and wheel (gid 0).

use super::common::{for_each_child, is_dir, is_link, parse_args, say, show, usage, warn, warnx};
use super::getopt::Opt;
use crate::Client;
use netbsd_abi::stat::Stat;

/// "Leave unchanged" for chown(2).
const KEEP: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    recursive: bool,
    force: bool,
    links: bool,
    verbose: bool,
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("Usage: {prog} [-R] [-fhv] owner:group|owner|:group file ...\n");
    let (opts, operands) = match parse_args(prog, args, "Rfhv", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let mut f = Flags::default();
    for o in &opts {
        match o {
            Opt::Flag('R') => f.recursive = true,
            Opt::Flag('f') => f.force = true,
            Opt::Flag('h') => f.links = true,
            Opt::Flag('v') => f.verbose = true,
            _ => {}
        }
    }
    if operands.len() < 2 {
        return usage(&text);
    }
    let (uid, gid) = match parse_owner(&operands[0]) {
        Ok(ids) => ids,
        Err(msg) => {
            warnx(prog, msg);
            return 1;
        }
    };
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let c = Chown {
        prog,
        client: &client,
        f,
        uid,
        gid,
    };
    let mut ok = true;
    for p in &operands[1..] {
        ok &= c.root(p.as_bytes());
    }
    i32::from(!ok)
}

/// A user: "root", a number, or "#number".
pub(super) fn user_id(s: &str) -> Result<u32, String> {
    if s == "root" {
        return Ok(0);
    }
    number(s).ok_or_else(|| format!("{}: invalid user name", s.trim_start_matches('#')))
}

/// A group: "wheel", a number, or "#number".
pub(super) fn group_id(s: &str) -> Result<u32, String> {
    if s == "wheel" {
        return Ok(0);
    }
    number(s).ok_or_else(|| format!("{}: invalid group name", s.trim_start_matches('#')))
}

fn number(s: &str) -> Option<u32> {
    let s = s.strip_prefix('#').unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// "owner", "owner:group", ":group", "owner:" or the old "owner.group";
/// missing parts are KEEP.
fn parse_owner(spec: &str) -> Result<(u32, u32), String> {
    let (owner, group) = match spec.split_once(':') {
        Some((o, g)) => (o, Some(g)),
        None => match spec.rsplit_once('.') {
            Some((o, g)) if user_id(spec).is_err() => (o, Some(g)),
            _ => (spec, None),
        },
    };
    let gid = match group {
        Some(g) if !g.is_empty() => group_id(g)?,
        _ => KEEP,
    };
    let uid = if owner.is_empty() {
        KEEP
    } else {
        user_id(owner)?
    };
    Ok((uid, gid))
}

struct Chown<'a> {
    prog: &'a str,
    client: &'a Client,
    f: Flags,
    uid: u32,
    gid: u32,
}

impl Chown<'_> {
    /// An operand: followed through a symbolic link unless -R or -h; a
    /// dangling link is passed over.
    fn root(&self, p: &[u8]) -> bool {
        let follow = !self.f.recursive && !self.f.links;
        let st = if follow {
            match self.client.stat(p) {
                Ok(st) => Ok(st),
                Err(e) => match self.client.lstat(p) {
                    Ok(l) if is_link(l.mode) => return true,
                    Ok(l) => Ok(l),
                    Err(_) => Err(e),
                },
            }
        } else {
            self.client.lstat(p)
        };
        match st {
            Ok(st) => self.entry(p, &st),
            Err(e) => {
                warn(self.prog, p, e);
                false
            }
        }
    }

    fn entry(&self, p: &[u8], st: &Stat) -> bool {
        let link = is_link(st.mode);
        if link && !self.f.links {
            return true;
        }
        let mut ok = true;
        if self.f.recursive && is_dir(st.mode) {
            ok &= self.children(p);
        }
        let r = if link {
            self.client.lchown(p, self.uid, self.gid)
        } else {
            self.client.chown(p, self.uid, self.gid)
        };
        match r {
            Err(e) if !self.f.force => {
                warn(self.prog, p, e);
                ok = false;
            }
            Err(_) => {}
            Ok(()) if self.f.verbose => say(&show(p)),
            Ok(()) => {}
        }
        ok
    }

    fn children(&self, dir: &[u8]) -> bool {
        for_each_child(self.client, self.prog, dir, |p, st| self.entry(p, st))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_specs() {
        assert_eq!(parse_owner("root"), Ok((0, KEEP)));
        assert_eq!(parse_owner("1000:100"), Ok((1000, 100)));
        assert_eq!(parse_owner("root:wheel"), Ok((0, 0)));
        assert_eq!(parse_owner(":wheel"), Ok((KEEP, 0)));
        assert_eq!(parse_owner("5:"), Ok((5, KEEP)));
        assert_eq!(parse_owner("7.8"), Ok((7, 8)));
        assert_eq!(parse_owner("#12"), Ok((12, KEEP)));
        assert_eq!(parse_owner("bob"), Err("bob: invalid user name".into()));
        assert_eq!(
            parse_owner("0:staff"),
            Err("staff: invalid group name".into())
        );
        assert_eq!(parse_owner("1x"), Err("1x: invalid user name".into()));
    }
}

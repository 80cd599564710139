//! rump.sysctl: reads and writes the kernel's sysctl variables, with
//! sysctl(8)'s name syntax, output format and diagnostics.
//!
//! Names are resolved by walking the tree with CTL_QUERY, as NetBSD's
//! libc does.

use super::getopt::{getopt, Opt};
use crate::Client;
use netbsd_abi::sysctl::*;
use netbsd_abi::Errno;
use std::collections::HashMap;

const LEVELS: [&str; 12] = [
    "top", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth",
];

struct Ctx<'a> {
    prog: &'a str,
    client: Client,
    eq: &'static str,
    nflag: bool,
    qflag: bool,
    dflag: bool,
    cache: HashMap<Vec<i32>, Vec<SysctlNode>>,
    errors: usize,
}

fn usage(prog: &str) -> i32 {
    eprintln!(
        "usage:\t{prog} [-dneq] variable ...\n\t{prog} [-ne] [-q] -w variable=value ...\n\t{prog} [-dne] -a\n\t{prog} [-dne] -A"
    );
    1
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let (opts, rest) = match getopt(args, "Aadenqw") {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return usage(prog);
        }
    };
    let flag = |c| opts.contains(&Opt::Flag(c));
    let all = flag('a') || flag('A');
    let wflag = flag('w');
    if (all && flag('q')) || (!all && rest.is_empty()) {
        return usage(prog);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut cx = Ctx {
        prog,
        client,
        eq: if flag('e') { "=" } else { " = " },
        nflag: flag('n'),
        qflag: flag('q'),
        dflag: flag('d'),
        cache: HashMap::new(),
        errors: 0,
    };
    if all {
        cx.print_tree(&[], "");
        return i32::from(cx.errors > 0);
    }
    for arg in &rest {
        match arg.split_once('=') {
            Some((name, value)) if wflag => cx.write(name, value),
            Some(_) => {
                eprintln!("{prog}: Must specify -w to set variables");
                return 1;
            }
            None => cx.read(arg),
        }
    }
    i32::from(cx.errors > 0)
}

impl Ctx<'_> {
    fn fail(&mut self, msg: String) {
        eprintln!("{}: {msg}", self.prog);
        self.errors += 1;
    }

    fn children(&mut self, prefix: &[i32]) -> Result<Vec<SysctlNode>, Errno> {
        if let Some(c) = self.cache.get(prefix) {
            return Ok(c.clone());
        }
        let c = self.client.sysctl_query(prefix)?;
        self.cache.insert(prefix.to_vec(), c.clone());
        Ok(c)
    }

    /// Resolves a dotted (or slashed) name to its MIB and node.
    fn resolve(&mut self, name: &str) -> Result<(Vec<i32>, SysctlNode), String> {
        let sep = if name.contains('/') && !name.contains('.') {
            '/'
        } else {
            '.'
        };
        let mut mib = Vec::new();
        let mut node = None;
        for (level, part) in name.split(sep).enumerate() {
            let children = self
                .children(&mib)
                .map_err(|_| invalid(level, part, name))?;
            let found = children
                .into_iter()
                .find(|c| c.name == part || part.parse::<i32>().is_ok_and(|n| n == c.num))
                .ok_or_else(|| invalid(level, part, name))?;
            mib.push(found.num);
            node = Some(found);
        }
        node.map(|n| (mib, n)).ok_or_else(|| invalid(0, "", name))
    }

    fn read(&mut self, name: &str) {
        match self.resolve(name) {
            Ok((mib, node)) => {
                let shown = name.replace('/', ".");
                if node_type(node.flags) == CTLTYPE_NODE {
                    self.print_tree(&mib, &shown);
                } else {
                    self.print_leaf(&mib, &node, &shown, true);
                }
            }
            Err(m) => self.fail(m),
        }
    }

    fn print_tree(&mut self, mib: &[i32], prefix: &str) {
        let children = match self.children(mib) {
            Ok(c) => c,
            Err(e) => return self.fail(format!("{prefix}: {e}")),
        };
        let descs = if self.dflag {
            self.client.sysctl_describe(mib).unwrap_or_default()
        } else {
            Vec::new()
        };
        for c in children {
            let name = if prefix.is_empty() {
                c.name.clone()
            } else {
                format!("{prefix}.{}", c.name)
            };
            let mut child = mib.to_vec();
            child.push(c.num);
            if node_type(c.flags) == CTLTYPE_NODE {
                self.print_tree(&child, &name);
            } else if node_type(c.flags) == CTLTYPE_STRUCT && !self.dflag {
                // Structures need a handler that knows them (sysctl(8)
                // stays silent about them in a walk); some cannot even be
                // read without further name components.
                continue;
            } else if self.dflag {
                let d = descs
                    .iter()
                    .find(|(n, _)| *n == c.num)
                    .map_or("(no description)", |(_, d)| d.as_str());
                println!("{name}: {d}");
            } else {
                self.print_leaf(&child, &c, &name, false);
            }
        }
    }

    fn fetch(&mut self, mib: &[i32]) -> Result<Vec<u8>, Errno> {
        let mut size = self.client.sysctl(mib, None, None).oldlen.max(1);
        loop {
            let mut buf = vec![0u8; size];
            let out = self.client.sysctl(mib, Some(&mut buf), None);
            match out.result {
                Ok(()) => {
                    buf.truncate(out.oldlen);
                    return Ok(buf);
                }
                Err(Errno::ENOMEM) if out.oldlen > size => size = out.oldlen,
                Err(e) => return Err(e),
            }
        }
    }

    fn print_leaf(&mut self, mib: &[i32], node: &SysctlNode, name: &str, asked: bool) {
        if self.dflag {
            let parent = &mib[..mib.len() - 1];
            let d = self.client.sysctl_describe(parent).unwrap_or_default();
            let d = d
                .iter()
                .find(|(n, _)| *n == node.num)
                .map_or("(no description)", |(_, d)| d.as_str());
            println!("{name}: {d}");
            return;
        }
        let data = match self.fetch(mib) {
            Ok(d) => d,
            Err(e) => return self.fail(format!("{name}: {e}")),
        };
        let Some(text) = format_value(node.flags, &data) else {
            if asked {
                self.fail(format!("{name}: this type is unknown to this program"));
            }
            return;
        };
        if self.qflag {
            return;
        }
        if self.nflag {
            println!("{text}");
        } else {
            println!("{name}{}{text}", self.eq);
        }
    }

    fn write(&mut self, name: &str, value: &str) {
        let (mib, node) = match self.resolve(name) {
            Ok(v) => v,
            Err(m) => return self.fail(m),
        };
        let name = name.replace('/', ".");
        let new = match node_type(node.flags) {
            CTLTYPE_INT => match parse_number(value) {
                Some(v) if i32::try_from(v).is_ok() || u32::try_from(v).is_ok() => {
                    (v as i32).to_le_bytes().to_vec()
                }
                Some(_) => return self.fail(format!("{value}: {}", Errno::ERANGE)),
                None => return self.fail(format!("{value}: not a number")),
            },
            CTLTYPE_QUAD => match parse_number(value) {
                Some(v) => v.to_le_bytes().to_vec(),
                None => return self.fail(format!("{value}: not a number")),
            },
            CTLTYPE_BOOL => match parse_number(value) {
                Some(v @ (0 | 1)) => vec![v as u8],
                Some(_) => return self.fail(format!("{value}: {}", Errno::EINVAL)),
                None => return self.fail(format!("{value}: not a number")),
            },
            CTLTYPE_STRING => {
                if value.len() + 1 > node.size as usize {
                    return self.fail(format!("{value}: string too long"));
                }
                let mut v = value.as_bytes().to_vec();
                v.push(0);
                v
            }
            CTLTYPE_NODE => return self.print_tree(&mib, &name),
            _ => return self.fail(format!("{name}: this type is unknown to this program")),
        };
        let mut old = vec![0u8; (node.size as usize).max(new.len()).max(8)];
        let out = self.client.sysctl(&mib, Some(&mut old), Some(&new));
        if let Err(e) = out.result {
            return self.fail(format!("{name}: {e}"));
        }
        old.truncate(out.oldlen);
        if self.qflag {
            return;
        }
        let shown_old = format_value(node.flags, &old).unwrap_or_default();
        let shown_new = format_value(node.flags, &new).unwrap_or_default();
        if self.nflag {
            println!("{shown_new}");
        } else {
            println!("{name}: {shown_old} -> {shown_new}");
        }
    }
}

fn invalid(level: usize, part: &str, name: &str) -> String {
    format!(
        "{} level name '{part}' in '{name}' is invalid",
        LEVELS.get(level).unwrap_or(&"deep")
    )
}

/// A number as strtoull(3) with base 0 reads it: decimal, 0x hex, 0 octal.
fn parse_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse::<u64>().ok()?
    };
    Some(if neg {
        (v as i64).wrapping_neg()
    } else {
        v as i64
    })
}

/// How sysctl(8) shows a value; `None` for structures it cannot show.
fn format_value(flags: u32, data: &[u8]) -> Option<String> {
    let word = |n: usize| {
        let mut b = [0u8; 8];
        b[..n.min(data.len())].copy_from_slice(&data[..n.min(data.len())]);
        u64::from_le_bytes(b)
    };
    match node_type(flags) {
        CTLTYPE_INT => Some((word(4) as u32 as i32).to_string()),
        CTLTYPE_QUAD => Some(word(8).to_string()),
        CTLTYPE_BOOL => Some(u8::from(word(1) != 0).to_string()),
        CTLTYPE_STRING => {
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            Some(String::from_utf8_lossy(&data[..end]).into_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_values() {
        assert_eq!(parse_number("42"), Some(42));
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("-1"), Some(-1));
        assert_eq!(parse_number("x"), None);
        assert_eq!(
            format_value(CTLTYPE_STRING, b"NetBSD\0junk").as_deref(),
            Some("NetBSD")
        );
        assert_eq!(
            format_value(CTLTYPE_INT, &(-5i32).to_le_bytes()).as_deref(),
            Some("-5")
        );
        assert_eq!(
            format_value(CTLTYPE_QUAD, &536870912u64.to_le_bytes()).as_deref(),
            Some("536870912")
        );
        assert_eq!(format_value(CTLTYPE_STRUCT, b"x"), None);
        assert_eq!(
            invalid(1, "foo", "kern.foo"),
            "second level name 'foo' in 'kern.foo' is invalid"
        );
    }
}

//! File modes as the tools show and take them: strmode(3)'s ten-letter
//! form, and chmod(1)'s octal and symbolic mode operands (setmode(3) and
//! getmode(3) semantics, umask included).

use netbsd_abi::stat::*;

/// The setuid, setgid and permission bits ("a" in a symbolic mode).
const STANDARD: u32 = S_ISUID | S_ISGID | 0o777;

/// The file type letter of `ls -l` and stat(1).
fn type_char(mode: u32) -> char {
    match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFCHR => 'c',
        S_IFBLK => 'b',
        S_IFREG => '-',
        S_IFLNK => 'l',
        S_IFSOCK => 's',
        S_IFIFO => 'p',
        S_IFWHT => 'w',
        _ => '?',
    }
}

/// One rwx triplet; `special` is the setuid/setgid/sticky bit of this
/// triplet, shown as `lower` with execute and `upper` without.
fn triplet(out: &mut String, bits: u32, special: bool, lower: char, upper: char) {
    out.push(if bits & 4 != 0 { 'r' } else { '-' });
    out.push(if bits & 2 != 0 { 'w' } else { '-' });
    out.push(match (bits & 1 != 0, special) {
        (false, false) => '-',
        (true, false) => 'x',
        (false, true) => upper,
        (true, true) => lower,
    });
}

/// strmode(3) without its trailing space: "drwxr-xr-x", "-rwsr-xr-t", ...
pub(super) fn strmode(mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(type_char(mode));
    triplet(&mut s, mode >> 6, mode & S_ISUID != 0, 's', 'S');
    triplet(&mut s, mode >> 3, mode & S_ISGID != 0, 's', 'S');
    triplet(&mut s, mode, mode & S_ISTXT != 0, 't', 'T');
    s
}

/// Which triplet a copy command reads ("g=u" reads u).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Triplet {
    User,
    Group,
    Other,
}

impl Triplet {
    fn shift(self) -> u32 {
        match self {
            Triplet::User => 6,
            Triplet::Group => 3,
            Triplet::Other => 0,
        }
    }
}

/// One step of a mode change.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Clear(u32),
    Set(u32),
    /// Set the bits if the original mode is a directory or executable.
    SetIfSearchable(u32),
    /// Copy one triplet's bits into the triplets in `to` (shifts).
    Copy {
        from: Triplet,
        to: Vec<u32>,
        mask: u32,
        clear: bool,
        set: bool,
    },
}

/// A parsed mode operand, applied to a file's old mode by [`ModeChange::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ModeChange(Vec<Step>);

impl ModeChange {
    /// The new mode for a file whose mode was `old` (type bits kept).
    pub(super) fn apply(&self, old: u32) -> u32 {
        let mut m = old;
        for step in &self.0 {
            match step {
                Step::Clear(b) => m &= !b,
                Step::Set(b) => m |= b,
                Step::SetIfSearchable(b) => {
                    if old & (S_IFDIR | 0o111) != 0 {
                        m |= b;
                    }
                }
                Step::Copy {
                    from,
                    to,
                    mask,
                    clear,
                    set,
                } => {
                    let value = (m >> from.shift()) & 7;
                    if *clear {
                        let c = if *set { 7 } else { value };
                        for s in to {
                            m &= !((c << s) & mask);
                        }
                    }
                    if *set {
                        for s in to {
                            m |= (value << s) & mask;
                        }
                    }
                }
            }
        }
        m
    }
}

/// Parses a mode operand: an octal number (at most 07777) or symbolic
/// clauses such as `u+x`, `go-w`, `a=r,u+w`, `+X`, `g=u`. `umask` limits
/// the clauses that name no one (`+x`), as chmod(1) specifies.
pub(super) fn parse_mode(s: &str, umask: u32) -> Option<ModeChange> {
    let b = s.as_bytes();
    match b.first()? {
        c if c.is_ascii_digit() => parse_octal(s),
        _ => parse_symbolic(b, !umask),
    }
}

fn parse_octal(s: &str) -> Option<ModeChange> {
    if !s.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return None;
    }
    let v = u32::from_str_radix(s, 8).ok()?;
    if v & !ALLPERMS != 0 {
        return None;
    }
    Some(ModeChange(vec![Step::Clear(ALLPERMS), Step::Set(v)]))
}

/// The state of one `who op perms` group while parsing.
struct Clause {
    who: u32,
    op: u8,
    mask: u32,
}

impl Clause {
    fn bits(&self, perm: u32) -> u32 {
        (if self.who != 0 { self.who } else { self.mask }) & perm
    }

    fn push_perm(&self, steps: &mut Vec<Step>, perm: u32) {
        match self.op {
            b'=' => {
                let clear = if self.who != 0 { self.who } else { STANDARD };
                steps.push(Step::Clear(clear));
                steps.push(Step::Set(self.bits(perm)));
            }
            b'+' => steps.push(Step::Set(self.bits(perm))),
            _ => steps.push(Step::Clear(self.bits(perm))),
        }
    }

    fn push_copy(&self, steps: &mut Vec<Step>, from: Triplet) {
        let (to, mask) = if self.who != 0 {
            let to = [(S_IRUSR, 6), (S_IRGRP, 3), (S_IROTH, 0)]
                .iter()
                .filter(|(bit, _)| self.who & bit != 0)
                .map(|&(_, s)| s)
                .collect();
            (to, u32::MAX)
        } else {
            (vec![6, 3, 0], self.mask)
        };
        steps.push(Step::Copy {
            from,
            to,
            mask,
            clear: self.op != b'+',
            set: self.op != b'-',
        });
    }
}

const S_IRUSR: u32 = 0o400;
const S_IRGRP: u32 = 0o040;
const S_IROTH: u32 = 0o004;

fn who_bits(c: u8) -> Option<u32> {
    match c {
        b'a' => Some(STANDARD),
        b'u' => Some(S_ISUID | 0o700),
        b'g' => Some(S_ISGID | 0o070),
        b'o' => Some(0o007),
        _ => None,
    }
}

fn parse_symbolic(b: &[u8], mask: u32) -> Option<ModeChange> {
    let mut steps = Vec::new();
    let mut i = 0;
    loop {
        let mut who = 0;
        while let Some(w) = b.get(i).and_then(|&c| who_bits(c)) {
            who |= w;
            i += 1;
        }
        // One or more "op perms" groups share this who.
        loop {
            let op = *b.get(i).filter(|c| matches!(c, b'+' | b'-' | b'='))?;
            i += 1;
            let mut cl = Clause { who, op, mask };
            i = parse_perms(b, i, &mut cl, &mut steps);
            match b.get(i) {
                None => return Some(ModeChange(steps)),
                Some(b',') => {
                    i += 1;
                    break;
                }
                Some(_) => {}
            }
        }
    }
}

/// Parses the permission letters after an operator; returns the index of
/// the first byte that is not one.
fn parse_perms(b: &[u8], mut i: usize, cl: &mut Clause, steps: &mut Vec<Step>) -> usize {
    let (mut perm, mut xbits, mut assigned) = (0, 0, false);
    let specials_allowed = |who: u32| who == 0 || who & !0o007 != 0;
    loop {
        match b.get(i) {
            Some(b'r') => perm |= 0o444,
            Some(b'w') => perm |= 0o222,
            Some(b'x') => perm |= 0o111,
            Some(b'X') => xbits = 0o111,
            Some(b's') if specials_allowed(cl.who) => perm |= S_ISUID | S_ISGID,
            Some(b't') if specials_allowed(cl.who) => {
                cl.who |= S_ISTXT;
                perm |= S_ISTXT;
            }
            Some(b's' | b't') => {}
            Some(&c @ (b'u' | b'g' | b'o')) => {
                if perm != 0 {
                    cl.push_perm(steps, perm);
                    perm = 0;
                }
                assigned |= cl.op == b'=';
                if cl.op == b'+' && xbits != 0 {
                    steps.push(Step::SetIfSearchable(cl.bits(xbits)));
                    xbits = 0;
                }
                let from = match c {
                    b'u' => Triplet::User,
                    b'g' => Triplet::Group,
                    _ => Triplet::Other,
                };
                cl.push_copy(steps, from);
            }
            _ => {
                if perm != 0 || (cl.op == b'=' && !assigned) {
                    cl.push_perm(steps, perm);
                }
                if xbits != 0 {
                    steps.push(Step::SetIfSearchable(cl.bits(xbits)));
                }
                return i;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(spec: &str, umask: u32, old: u32) -> u32 {
        parse_mode(spec, umask).expect(spec).apply(old) & 0o7777
    }

    #[test]
    fn strmode_letters() {
        assert_eq!(strmode(S_IFDIR | 0o755), "drwxr-xr-x");
        assert_eq!(strmode(S_IFREG | 0o644), "-rw-r--r--");
        assert_eq!(strmode(S_IFLNK | 0o777), "lrwxrwxrwx");
        assert_eq!(strmode(S_IFDIR | 0o1777), "drwxrwxrwt");
        assert_eq!(strmode(S_IFDIR | 0o1776), "drwxrwxrwT");
        assert_eq!(strmode(S_IFREG | 0o4755), "-rwsr-xr-x");
        assert_eq!(strmode(S_IFREG | 0o2644), "-rw-r-Sr--");
        assert_eq!(strmode(S_IFCHR | 0o620), "crw--w----");
        assert_eq!(strmode(S_IFBLK | 0o640), "brw-r-----");
        assert_eq!(strmode(S_IFIFO | 0o600), "prw-------");
        assert_eq!(strmode(S_IFSOCK | 0o755), "srwxr-xr-x");
        assert_eq!(strmode(0o600), "?rw-------");
    }

    #[test]
    fn octal_modes() {
        assert_eq!(chmod("755", 0o022, S_IFREG | 0o4644), 0o755);
        assert_eq!(chmod("1777", 0, 0), 0o1777);
        assert_eq!(chmod("0", 0, 0o777), 0);
        assert!(parse_mode("10000", 0).is_none());
        assert!(parse_mode("789", 0).is_none());
        assert!(parse_mode("", 0).is_none());
        // The type bits survive.
        assert_eq!(
            parse_mode("700", 0).unwrap().apply(S_IFDIR | 0o755),
            S_IFDIR | 0o700
        );
    }

    #[test]
    fn symbolic_modes() {
        assert_eq!(chmod("u+x", 0o022, 0o644), 0o744);
        assert_eq!(chmod("go-w", 0o022, 0o666), 0o644);
        assert_eq!(chmod("a=r", 0o022, 0o777), 0o444);
        assert_eq!(chmod("u=rwx,g=rx,o=", 0o022, 0), 0o750);
        assert_eq!(chmod("+x", 0o022, 0o644), 0o755);
        assert_eq!(chmod("+x", 0o077, 0o644), 0o744);
        assert_eq!(chmod("-w", 0o022, 0o666), 0o466);
        assert_eq!(chmod("=rw", 0o022, 0o777), 0o644);
        assert_eq!(chmod("g=u", 0o022, 0o740), 0o770);
        assert_eq!(chmod("o=g", 0o022, 0o751), 0o755);
        assert_eq!(chmod("u+s", 0o022, 0o755), 0o4755);
        assert_eq!(chmod("g+s", 0o022, 0o755), 0o2755);
        assert_eq!(chmod("+t", 0o022, 0o755), 0o1755);
        assert_eq!(chmod("o+t", 0o022, 0o755), 0o755);
        assert_eq!(chmod("u-x+w", 0o022, 0o500), 0o600);
        assert_eq!(chmod("a-x", 0, 0o4755), 0o4644);
        assert_eq!(chmod("u=", 0, 0o4755), 0o055);
    }

    #[test]
    fn capital_x() {
        assert_eq!(chmod("a+X", 0o022, 0o644), 0o644);
        assert_eq!(chmod("a+X", 0o022, 0o744), 0o755);
        assert_eq!(
            parse_mode("a+X", 0o022).unwrap().apply(S_IFDIR | 0o644) & 0o7777,
            0o755
        );
    }

    #[test]
    fn bad_symbolic_modes() {
        for bad in ["u", "u+x,", "z+x", "u+x,q", "ug"] {
            assert!(parse_mode(bad, 0o022).is_none(), "{bad}");
        }
    }
}

//! rump.ls [-1AaCcdFfhiklnpRrSsTtu] [file ...]: lists kernel files and
//! directories in ls(1)'s formats: one name per line when standard
//! output is not a terminal, columns when it is, and the long format.

use super::clock::{ls_date, now, Zone};
use super::common::{
    group_name, is_dir, is_link, join, parse_args, show, user_name, warnx, Output,
};
use super::getopt::Opt;
use super::modes::strmode;
use super::numbers::{block_size, howmany, humanize};
use crate::Client;
use netbsd_abi::stat::{
    major, minor, Stat, Timespec, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK,
    S_IFWHT,
};
use netbsd_abi::Errno;
use std::cmp::Ordering;
use std::io::IsTerminal;

/// How entries are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Single,
    Columns,
    Long,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortKey {
    Name,
    Time,
    Size,
    Unsorted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Modified,
    Accessed,
    Changed,
}

/// The options, after the later of conflicting ones has won.
#[derive(Clone, Debug)]
struct Flags {
    layout: Layout,
    see_dot: bool,
    list_dot: bool,
    dir_itself: bool,
    inode: bool,
    recursive: bool,
    numeric: bool,
    reverse: bool,
    sort: SortKey,
    blocks: bool,
    kilo: bool,
    human: bool,
    classify: bool,
    slash: bool,
    time: Which,
    full_time: bool,
    nonprint: bool,
}

impl Flags {
    fn new(tty: bool) -> Flags {
        Flags {
            layout: if tty { Layout::Columns } else { Layout::Single },
            see_dot: false,
            list_dot: false,
            dir_itself: false,
            inode: false,
            recursive: false,
            numeric: false,
            reverse: false,
            sort: SortKey::Name,
            blocks: false,
            kilo: false,
            human: false,
            classify: false,
            slash: false,
            time: Which::Modified,
            full_time: false,
            nonprint: tty,
        }
    }

    fn apply(&mut self, c: char) {
        match c {
            '1' => self.layout = Layout::Single,
            'C' => self.layout = Layout::Columns,
            'l' => self.layout = Layout::Long,
            'n' => (self.layout, self.numeric) = (Layout::Long, true),
            'a' => (self.see_dot, self.list_dot) = (true, true),
            'A' => self.list_dot = true,
            'f' => (self.sort, self.see_dot, self.list_dot) = (SortKey::Unsorted, true, true),
            'd' => (self.dir_itself, self.recursive) = (true, false),
            'R' => self.recursive = true,
            'i' => self.inode = true,
            'r' => self.reverse = true,
            't' => self.sort = SortKey::Time,
            'S' => self.sort = SortKey::Size,
            's' => self.blocks = true,
            'k' => (self.kilo, self.human) = (true, false),
            'h' => (self.human, self.kilo) = (true, false),
            'F' => self.classify = true,
            'p' => self.slash = true,
            'c' => self.time = Which::Changed,
            'u' => self.time = Which::Accessed,
            'T' => self.full_time = true,
            _ => {}
        }
    }

    /// Whether operands that are symbolic links are followed.
    fn follow_operands(&self) -> bool {
        self.layout != Layout::Long && !self.dir_itself && !self.classify
    }

    fn time_of(&self, st: &Stat) -> Timespec {
        match self.time {
            Which::Modified => st.mtime,
            Which::Accessed => st.atime,
            Which::Changed => st.ctime,
        }
    }
}

/// One file to show: its name as shown, its path, its metadata.
#[derive(Clone, Debug)]
struct Entry {
    name: Vec<u8>,
    path: Vec<u8>,
    st: Stat,
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = format!("usage: {prog} [-1AaCcdFfhiklnpRrSsTtu] [file ...]\n");
    let (opts, operands) = match parse_args(prog, args, "1AaCcdFfhiklnpRrSsTtu", &usage) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let tty = std::io::stdout().is_terminal();
    let mut flags = Flags::new(tty);
    for o in &opts {
        if let Opt::Flag(c) = o {
            flags.apply(*c);
        }
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let blocksize = unit_blocks(prog, &flags);
    let fmt = Format {
        flags,
        zone: Zone::local(),
        now: now(),
        blocksize,
    };
    let mut ls = Ls {
        prog,
        client: &client,
        fmt,
        termwidth: term_width(),
        out: Output::new(),
        printed: false,
        failed: false,
    };
    let operands = if operands.is_empty() {
        vec![".".to_string()]
    } else {
        operands
    };
    ls.operands(&operands);
    let written = ls.out.finish(prog);
    i32::from(ls.failed || !written)
}

/// The block unit of -s and "total", in 512-byte blocks.
fn unit_blocks(prog: &str, f: &Flags) -> u64 {
    if !(f.inode || f.layout == Layout::Long || f.blocks) {
        return 1;
    }
    let bytes = if f.kilo { 1024 } else { block_size(prog).0 };
    (bytes / 512).max(1)
}

fn term_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w| w > 0)
        .unwrap_or(80)
}

/// Column widths of one listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Widths {
    inode: usize,
    block: usize,
    nlink: usize,
    user: usize,
    group: usize,
    size: usize,
    major: usize,
    minor: usize,
    name: usize,
}

fn digits(n: u64) -> usize {
    n.to_string().len()
}

fn is_device(mode: u32) -> bool {
    matches!(mode & S_IFMT, S_IFCHR | S_IFBLK)
}

fn blocks_of(st: &Stat) -> u64 {
    u64::try_from(st.blocks).unwrap_or(0)
}

fn size_of(st: &Stat) -> u64 {
    u64::try_from(st.size).unwrap_or(0)
}

/// The `-F`/`-p` mark after a name.
fn type_mark(mode: u32, classify: bool, slash: bool) -> Option<char> {
    let kind = mode & S_IFMT;
    if slash && !classify {
        return (kind == S_IFDIR).then_some('/');
    }
    if !classify {
        return None;
    }
    match kind {
        S_IFDIR => Some('/'),
        S_IFIFO => Some('|'),
        S_IFLNK => Some('@'),
        S_IFSOCK => Some('='),
        S_IFWHT => Some('%'),
        _ if mode & 0o111 != 0 => Some('*'),
        _ => None,
    }
}

/// Orders entries as ls does for `key`, before any -r.
fn compare(key: SortKey, f: &Flags, a: &Entry, b: &Entry) -> Ordering {
    let by_name = a.name.cmp(&b.name);
    match key {
        SortKey::Name | SortKey::Unsorted => by_name,
        SortKey::Time => f.time_of(&b.st).cmp(&f.time_of(&a.st)).then(by_name),
        SortKey::Size => b.st.size.cmp(&a.st.size).then(by_name),
    }
}

fn sort_entries(f: &Flags, v: &mut [Entry]) {
    if f.sort == SortKey::Unsorted {
        return;
    }
    v.sort_by(|a, b| {
        let o = compare(f.sort, f, a, b);
        if f.reverse {
            o.reverse()
        } else {
            o
        }
    });
}

/// What the listings' formatting depends on.
struct Format {
    flags: Flags,
    zone: Zone,
    now: i64,
    /// The unit of -s and "total", in 512-byte blocks.
    blocksize: u64,
}

struct Ls<'a> {
    prog: &'a str,
    client: &'a Client,
    fmt: Format,
    termwidth: usize,
    out: Output,
    /// Whether a listing has been printed (the next header needs a blank
    /// line before it).
    printed: bool,
    failed: bool,
}

impl Ls<'_> {
    fn warn(&mut self, name: &[u8], e: Errno) {
        warnx(self.prog, format!("{}: {e}", show(name)));
        self.failed = true;
    }

    /// The metadata of an operand: followed through a symbolic link
    /// unless the long format, -d or -F shows links themselves (a
    /// dangling link is shown as itself).
    fn operand_stat(&self, p: &[u8]) -> Result<Stat, Errno> {
        if self.fmt.flags.follow_operands() {
            self.client
                .stat(p)
                .or_else(|e| self.client.lstat(p).map_err(|_| e))
        } else {
            self.client.lstat(p)
        }
    }

    fn operands(&mut self, operands: &[String]) {
        let (mut files, mut dirs, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for o in operands {
            let p = o.as_bytes().to_vec();
            match self.operand_stat(&p) {
                Ok(st) => {
                    let e = Entry {
                        name: p.clone(),
                        path: p,
                        st,
                    };
                    if is_dir(st.mode) && !self.fmt.flags.dir_itself {
                        dirs.push(e);
                    } else {
                        files.push(e);
                    }
                }
                Err(e) => errors.push((p, e)),
            }
        }
        errors.sort();
        for (p, e) in errors {
            self.warn(&p, e);
        }
        sort_entries(&self.fmt.flags, &mut files);
        sort_entries(&self.fmt.flags, &mut dirs);
        self.display(&files, None);
        let many = operands.len() > 1;
        for d in dirs {
            self.directory(&d.path, &d.name, many);
        }
    }

    /// Lists a directory's contents (and, with -R, its subdirectories').
    fn directory(&mut self, path: &[u8], name: &[u8], many: bool) {
        if self.printed {
            self.out.text(&format!("\n{}:\n", show(path)));
        } else if many {
            self.out.text(&format!("{}:\n", show(path)));
            self.printed = true;
        }
        let entries = match self.client.read_dir(path) {
            Ok(d) => d,
            Err(e) => return self.warn(name, e),
        };
        let mut list = Vec::new();
        for d in entries {
            if !self.shown(&d.name) {
                continue;
            }
            let p = join(path, &d.name);
            match self.client.lstat(&p) {
                Ok(st) => list.push(Entry {
                    name: d.name,
                    path: p,
                    st,
                }),
                Err(e) => self.warn(&d.name, e),
            }
        }
        sort_entries(&self.fmt.flags, &mut list);
        self.display(&list, Some(path));
        if !self.fmt.flags.recursive {
            return;
        }
        for e in &list {
            if is_dir(e.st.mode) && e.name != b"." && e.name != b".." {
                self.directory(&e.path, &e.name, many);
            }
        }
    }

    /// Whether a directory entry is listed at all.
    fn shown(&self, name: &[u8]) -> bool {
        if name == b"." || name == b".." {
            return self.fmt.flags.see_dot;
        }
        !name.starts_with(b".") || self.fmt.flags.list_dot
    }

    /// Prints one listing; `dir` is the directory listed (None for the
    /// operands that are not directories).
    fn display(&mut self, list: &[Entry], dir: Option<&[u8]>) {
        if list.is_empty() {
            return;
        }
        let w = self.fmt.widths(list);
        let total =
            dir.is_some() && (self.fmt.flags.layout == Layout::Long || self.fmt.flags.blocks);
        match self.fmt.flags.layout {
            Layout::Long => {
                if total {
                    self.total(list);
                }
                for e in list {
                    let line = self.long_line(e, &w, dir);
                    self.out.bytes(&line);
                }
            }
            Layout::Columns => self.columns(list, &w, total),
            Layout::Single => {
                for e in list {
                    let mut line = self.fmt.short_name(e, &w);
                    line.push(b'\n');
                    self.out.bytes(&line);
                }
            }
        }
        self.printed = true;
    }

    fn total(&mut self, list: &[Entry]) {
        let t = if self.fmt.flags.human {
            let bytes: u64 = list.iter().map(|e| size_of(&e.st)).sum();
            humanize(i64::try_from(bytes).unwrap_or(i64::MAX), 5).unwrap_or_default()
        } else {
            let blocks: u64 = list.iter().map(|e| blocks_of(&e.st)).sum();
            howmany(blocks, self.fmt.blocksize).to_string()
        };
        self.out.text(&format!("total {t}\n"));
    }

    fn columns(&mut self, list: &[Entry], w: &Widths, total: bool) {
        let mut colwidth = w.name + 1;
        if self.fmt.flags.inode {
            colwidth += w.inode + 1;
        }
        if self.fmt.flags.blocks {
            colwidth += w.block + 1;
        }
        if self.fmt.flags.classify || self.fmt.flags.slash {
            colwidth += 1;
        }
        if self.termwidth < 2 * colwidth {
            for e in list {
                let mut line = self.fmt.short_name(e, w);
                line.push(b'\n');
                self.out.bytes(&line);
            }
            return;
        }
        let numcols = self.termwidth / colwidth;
        let colwidth = self.termwidth / numcols;
        let numrows = list.len().div_ceil(numcols);
        if total {
            self.total(list);
        }
        for row in 0..numrows {
            let mut line = Vec::new();
            let mut base = row;
            loop {
                let item = self.fmt.short_name(&list[base], w);
                let len = item.len();
                line.extend(item);
                base += numrows;
                if base >= list.len() {
                    break;
                }
                line.resize(line.len() + colwidth.saturating_sub(len), b' ');
            }
            line.push(b'\n');
            self.out.bytes(&line);
        }
    }

    fn long_line(&self, e: &Entry, w: &Widths, dir: Option<&[u8]>) -> Vec<u8> {
        let mut b = self.fmt.long_prefix(&e.st, w).into_bytes();
        b.extend(self.fmt.marked_name(e));
        if is_link(e.st.mode) {
            let target = if dir.is_some() { &e.path } else { &e.name };
            match self.client.readlink(target) {
                Ok(t) => {
                    b.extend_from_slice(b" -> ");
                    b.extend(self.fmt.name_bytes(&t));
                }
                Err(err) => eprint!("\n{}: {}: {err}\n", self.prog, show(target)),
            }
        }
        b.push(b'\n');
        b
    }
}

impl Format {
    fn widths(&self, list: &[Entry]) -> Widths {
        let max = |f: &dyn Fn(&Entry) -> u64| list.iter().map(f).max().unwrap_or(0);
        let mut w = Widths {
            inode: digits(max(&|e| e.st.ino)),
            block: digits(howmany(max(&|e| blocks_of(&e.st)), self.blocksize)),
            nlink: digits(max(&|e| u64::from(e.st.nlink))),
            user: list
                .iter()
                .map(|e| self.user(&e.st).len())
                .max()
                .unwrap_or(0),
            group: list
                .iter()
                .map(|e| self.group(&e.st).len())
                .max()
                .unwrap_or(0),
            size: digits(max(&|e| size_of(&e.st))),
            name: list.iter().map(|e| e.name.len()).max().unwrap_or(0),
            ..Widths::default()
        };
        if self.flags.human {
            (w.block, w.size) = (4, 4);
        }
        let devices: Vec<&Entry> = list.iter().filter(|e| is_device(e.st.mode)).collect();
        if !devices.is_empty() {
            let dmax = |f: fn(u64) -> u32| devices.iter().map(|e| f(e.st.rdev)).max().unwrap_or(0);
            w.major = digits(u64::from(dmax(major)));
            w.minor = digits(u64::from(dmax(minor)));
            if w.major + w.minor + 2 > w.size {
                w.size = w.major + w.minor + 2;
            } else {
                w.major = w.size - w.minor - 2;
            }
        }
        w
    }

    fn user(&self, st: &Stat) -> String {
        match self.flags.numeric {
            true => st.uid.to_string(),
            false => user_name(st.uid),
        }
    }

    fn group(&self, st: &Stat) -> String {
        match self.flags.numeric {
            true => st.gid.to_string(),
            false => group_name(st.gid),
        }
    }

    /// A name as printed: unprintable characters become '?' on a terminal.
    fn name_bytes(&self, name: &[u8]) -> Vec<u8> {
        if !self.flags.nonprint {
            return name.to_vec();
        }
        show(name)
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect::<String>()
            .into_bytes()
    }

    fn block_column(&self, st: &Stat, w: &Widths) -> String {
        if self.flags.human {
            let bytes = st.blocks.saturating_mul(512);
            format!("{:>4} ", humanize(bytes, 5).unwrap_or_default())
        } else {
            format!("{:>1$} ", howmany(blocks_of(st), self.blocksize), w.block)
        }
    }

    /// [inode] [blocks] name [mark]: the short forms' item.
    fn short_name(&self, e: &Entry, w: &Widths) -> Vec<u8> {
        let mut s = String::new();
        if self.flags.inode {
            s += &format!("{:>1$} ", e.st.ino, w.inode);
        }
        if self.flags.blocks {
            s += &self.block_column(&e.st, w);
        }
        let mut b = s.into_bytes();
        b.extend(self.marked_name(e));
        b
    }

    /// The long format up to the name (the name, its mark and a link's
    /// target follow).
    fn long_prefix(&self, st: &Stat, w: &Widths) -> String {
        let mut s = String::new();
        if self.flags.inode {
            s += &format!("{:>1$} ", st.ino, w.inode);
        }
        if self.flags.blocks {
            s += &self.block_column(st, w);
        }
        s += &format!("{}  {:>2$} ", strmode(st.mode), st.nlink, w.nlink);
        s += &format!("{:<1$}  ", self.user(st), w.user);
        s += &format!("{:<1$}  ", self.group(st), w.group);
        if is_device(st.mode) {
            let (ma, mi) = (major(st.rdev), minor(st.rdev));
            s += &format!("{ma:>0$}, {mi:>1$} ", w.major, w.minor);
        } else if self.flags.human {
            s += &format!("{:>1$} ", humanize(st.size, 5).unwrap_or_default(), w.size);
        } else {
            s += &format!("{:>1$} ", st.size, w.size);
        }
        let t = self.flags.time_of(st).sec;
        s += &ls_date(&self.zone, t, self.now, self.flags.full_time);
        s.push(' ');
        s
    }

    /// The name with its -F or -p mark.
    fn marked_name(&self, e: &Entry) -> Vec<u8> {
        let mut b = self.name_bytes(&e.name);
        if let Some(m) = type_mark(e.st.mode, self.flags.classify, self.flags.slash) {
            b.push(m as u8);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, mode: u32, size: i64, mtime: i64) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            path: name.as_bytes().to_vec(),
            st: Stat {
                mode,
                size,
                mtime: Timespec {
                    sec: mtime,
                    nsec: 0,
                },
                nlink: 1,
                ..Stat::default()
            },
        }
    }

    fn flags(opts: &str) -> Flags {
        let mut f = Flags::new(false);
        opts.chars().for_each(|c| f.apply(c));
        f
    }

    fn names(v: &[Entry]) -> Vec<&str> {
        v.iter()
            .map(|e| std::str::from_utf8(&e.name).unwrap())
            .collect()
    }

    #[test]
    fn option_interplay() {
        assert_eq!(flags("").layout, Layout::Single);
        assert_eq!(Flags::new(true).layout, Layout::Columns);
        assert_eq!(flags("l1").layout, Layout::Single);
        assert_eq!(flags("1l").layout, Layout::Long);
        assert!(flags("n").numeric && flags("n").layout == Layout::Long);
        assert!(!flags("Rd").recursive && flags("dR").recursive);
        assert!(flags("a").see_dot && flags("A").list_dot && !flags("A").see_dot);
        assert!(flags("").follow_operands());
        assert!(!flags("l").follow_operands() && !flags("d").follow_operands());
        assert_eq!(flags("cu").time, Which::Accessed);
    }

    #[test]
    fn sorting() {
        let v = vec![
            entry("b", REG_644, 10, 300),
            entry("a", REG_644, 30, 100),
            entry("c", REG_644, 20, 200),
            entry("B", REG_644, 20, 200),
        ];
        let mut by_name = v.clone();
        sort_entries(&flags(""), &mut by_name);
        assert_eq!(names(&by_name), ["B", "a", "b", "c"]);
        let mut rev = v.clone();
        sort_entries(&flags("r"), &mut rev);
        assert_eq!(names(&rev), ["c", "b", "a", "B"]);
        let mut by_time = v.clone();
        sort_entries(&flags("t"), &mut by_time);
        assert_eq!(names(&by_time), ["b", "B", "c", "a"]);
        let mut by_size = v.clone();
        sort_entries(&flags("S"), &mut by_size);
        assert_eq!(names(&by_size), ["a", "B", "c", "b"]);
        let mut unsorted = v.clone();
        sort_entries(&flags("f"), &mut unsorted);
        assert_eq!(names(&unsorted), ["b", "a", "c", "B"]);
    }

    const REG_644: u32 = netbsd_abi::stat::S_IFREG | 0o644;

    const NOW: i64 = 1_700_000_000; // Tue Nov 14 22:13:20 2023 UTC

    fn format(opts: &str) -> Format {
        Format {
            flags: flags(opts),
            zone: Zone::default(),
            now: NOW,
            blocksize: 1,
        }
    }

    fn long(f: &Format, list: &[Entry]) -> Vec<String> {
        let w = f.widths(list);
        list.iter()
            .map(|e| {
                let mut s = f.long_prefix(&e.st, &w);
                s += &String::from_utf8(f.marked_name(e)).unwrap();
                s
            })
            .collect()
    }

    #[test]
    fn long_format_lines() {
        let mut dir = entry("sub", S_IFDIR | 0o755, 512, NOW - 60);
        dir.st.nlink = 12;
        dir.st.ino = 1234;
        let mut file = entry("file", REG_644, 5, NOW - 400 * 86400);
        (file.st.uid, file.st.gid) = (1000, 100);
        file.st.ino = 7;
        let list = [dir, file];
        assert_eq!(
            long(&format("l"), &list),
            [
                "drwxr-xr-x  12 root  wheel  512 Nov 14 22:12 sub",
                "-rw-r--r--   1 1000  100      5 Oct 10  2022 file",
            ]
        );
        assert_eq!(
            long(&format("liF"), &list),
            [
                "1234 drwxr-xr-x  12 root  wheel  512 Nov 14 22:12 sub/",
                "   7 -rw-r--r--   1 1000  100      5 Oct 10  2022 file",
            ]
        );
        assert_eq!(
            long(&format("n"), &list[..1]),
            ["drwxr-xr-x  12 0  0  512 Nov 14 22:12 sub"]
        );
    }

    #[test]
    fn devices_widen_the_size_column() {
        let mut tty = entry("tty", S_IFCHR | 0o620, 0, NOW);
        tty.st.rdev = netbsd_abi::stat::makedev(12, 345);
        let mut big = entry("big", REG_644, 1_234_567_890, NOW);
        big.st.blocks = 2_411_266;
        let f = format("ls");
        let w = f.widths(&[tty.clone(), big.clone()]);
        assert_eq!((w.size, w.major, w.minor, w.block), (10, 5, 3, 7));
        assert_eq!(
            long(&f, &[tty, big]),
            [
                "      0 crw--w----  1 root  wheel     12, 345 Nov 14 22:13 tty",
                "2411266 -rw-r--r--  1 root  wheel  1234567890 Nov 14 22:13 big",
            ]
        );
        let h = format("lh");
        let mut small = entry("s", REG_644, 1536, NOW);
        small.st.blocks = 4;
        assert_eq!(
            long(&h, &[small]),
            ["-rw-r--r--  1 root  wheel  1.5K Nov 14 22:13 s"]
        );
    }

    #[test]
    fn marks() {
        assert_eq!(type_mark(S_IFDIR | 0o755, true, false), Some('/'));
        assert_eq!(type_mark(S_IFDIR | 0o755, false, true), Some('/'));
        assert_eq!(type_mark(S_IFLNK | 0o777, false, true), None);
        assert_eq!(type_mark(S_IFLNK | 0o777, true, false), Some('@'));
        assert_eq!(type_mark(REG_644 | 0o100, true, false), Some('*'));
        assert_eq!(type_mark(REG_644, true, false), None);
        assert_eq!(type_mark(S_IFIFO | 0o644, true, false), Some('|'));
        assert_eq!(type_mark(REG_644, false, false), None);
    }
}

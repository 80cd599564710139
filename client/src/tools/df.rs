//! rump.df [-agln] [-hkm | -ihkm | -Pk] [-t type] [file | file_system ...]:
//! free disk space of the kernel's file systems in df(1)'s format; with
//! operands, of the file systems they are on.

use super::common::{parse_args, warn, warnx, Output};
use super::getopt::Opt;
use super::numbers::{block_size, humanize, percent};
use crate::Client;
use netbsd_abi::mount::{MNT_IGNORE, MNT_LOCAL};
use netbsd_abi::stat::{S_IFBLK, S_IFMT};
use netbsd_abi::statvfs::StatVfs;

/// How the table is printed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Style {
    human: bool,
    inodes: bool,
    posix: bool,
    /// Bytes per block in the block columns.
    blocksize: u64,
    /// The block columns' header ("512-blocks", "1K-blocks", "Size").
    header: String,
}

#[derive(Clone, Debug, Default)]
struct Flags {
    all: bool,
    local: bool,
    human: bool,
    inodes: bool,
    posix: bool,
    /// -k, -m or -g.
    unit: Option<u64>,
    types: Option<String>,
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text =
        format!("Usage: {prog} [-agln] [-hkm|-ihkm|-Pk] [-t type] [file | file_system ...]\n");
    let (opts, operands) = match parse_args(prog, args, "aghiklmnPt:", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let f = match flags(&opts) {
        Ok(f) => f,
        Err(msg) => {
            warnx(prog, msg);
            return 1;
        }
    };
    let style = match style(prog, &f) {
        Ok(s) => s,
        Err(msg) => {
            warnx(prog, msg);
            return 1;
        }
    };
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mounts = match client.getvfsstat() {
        Ok(m) => m,
        Err(e) => {
            warnx(
                prog,
                format!("retrieving information on mounted file systems: {e}"),
            );
            return 1;
        }
    };
    let (list, ok) = if operands.is_empty() {
        (select(&f, mounts), true)
    } else {
        of_operands(prog, &client, &f, &mounts, &operands)
    };
    let mut out = Output::new();
    out.text(&table(&style, &list));
    let written = out.finish(prog);
    i32::from(!(ok && written))
}

fn flags(opts: &[Opt]) -> Result<Flags, &'static str> {
    let mut f = Flags::default();
    for o in opts {
        match o {
            Opt::Flag('a') => f.all = true,
            Opt::Flag('g') => (f.human, f.unit) = (false, Some(1 << 30)),
            Opt::Flag('h') => (f.human, f.unit) = (true, None),
            Opt::Flag('i') => f.inodes = true,
            Opt::Flag('k') => (f.human, f.unit) = (false, Some(1 << 10)),
            Opt::Flag('l') => f.local = true,
            Opt::Flag('m') => (f.human, f.unit) = (false, Some(1 << 20)),
            Opt::Flag('P') => f.posix = true,
            Opt::Arg('t', _) if f.types.is_some() => {
                return Err("only one -t option may be specified.");
            }
            Opt::Arg('t', t) => f.types = Some(t.clone()),
            _ => {}
        }
    }
    if f.posix && f.inodes {
        return Err("only one of -P and -i may be specified");
    }
    Ok(f)
}

/// The block unit and header: -k/-m/-g, "Size" with -h, else BLOCKSIZE.
fn style(prog: &str, f: &Flags) -> Result<Style, &'static str> {
    let (blocksize, header) = match f.unit {
        Some(1024) if f.posix => (1024, "1024-blocks".to_string()),
        Some(1024) => (1024, "1K-blocks".into()),
        Some(u) if u == 1 << 20 => (u, "1M-blocks".into()),
        Some(u) => (u, "1G-blocks".into()),
        None if f.human => (512, "Size".into()),
        None => block_size(prog),
    };
    if f.posix && (f.human || !matches!(blocksize, 512 | 1024)) {
        return Err("non-standard block size incompatible with -P");
    }
    Ok(Style {
        human: f.human && !f.posix,
        inodes: f.inodes,
        posix: f.posix,
        blocksize,
        header,
    })
}

/// Whether -t selects a type: "a,b" those, "noa,b" all others.
fn type_selected(types: &Option<String>, fstype: &str) -> bool {
    let Some(t) = types else { return true };
    let (exclude, list) = match t.strip_prefix("no") {
        Some(rest) => (true, rest),
        None => (false, t.as_str()),
    };
    list.split(',').any(|n| n == fstype) != exclude
}

/// The mounts shown without operands.
fn select(f: &Flags, mounts: Vec<StatVfs>) -> Vec<StatVfs> {
    mounts
        .into_iter()
        .filter(|m| f.all || m.flag & MNT_IGNORE as u64 == 0)
        .filter(|m| !f.local || m.flag & MNT_LOCAL as u64 != 0)
        .filter(|m| type_selected(&f.types, &m.fstypename))
        .collect()
}

/// The file systems of the operands (files, mount points or mounted
/// devices); false if any could not be reported on.
fn of_operands(
    prog: &str,
    client: &Client,
    f: &Flags,
    mounts: &[StatVfs],
    operands: &[String],
) -> (Vec<StatVfs>, bool) {
    let mounted_from = |name: &str| {
        mounts
            .iter()
            .find(|m| m.mntfromname == name)
            .map(|m| m.mntonname.clone())
    };
    let (mut list, mut ok) = (Vec::new(), true);
    for name in operands {
        let target = match client.stat(name.as_bytes()) {
            Err(e) => match mounted_from(name) {
                Some(on) => on,
                None => {
                    warn(prog, name.as_bytes(), e);
                    ok = false;
                    continue;
                }
            },
            Ok(st) if st.mode & S_IFMT == S_IFBLK => mounted_from(name).unwrap_or(name.clone()),
            Ok(_) => name.clone(),
        };
        match client.statvfs(target.as_bytes()) {
            Err(e) => {
                warn(prog, name.as_bytes(), e);
                ok = false;
            }
            Ok(sv) if f.local && sv.flag & MNT_LOCAL as u64 == 0 => {
                warnx(prog, format!("Warning: {name} is not a local file system"));
            }
            Ok(sv) if !type_selected(&f.types, &sv.fstypename) => {
                let t = &sv.fstypename;
                warnx(
                    prog,
                    format!("Warning: {name} mounted as a {t} file system"),
                );
            }
            Ok(sv) => list.push(sv),
        }
    }
    (list, ok)
}

/// `n` fragments of `frsize` bytes in `bs`-byte blocks (fsbtoblk).
fn in_blocks(n: i64, frsize: u64, bs: u64) -> i64 {
    let (fs, bs) = (frsize as i64, bs as i64);
    if fs != 0 && fs < bs {
        n / (bs / fs)
    } else {
        n.saturating_mul(fs / bs.max(1))
    }
}

/// The whole table: header and one line per file system; nothing at
/// all, as df(1), when no file system is shown.
fn table(s: &Style, list: &[StatVfs]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let width = list
        .iter()
        .map(|m| m.mntfromname.len())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut out = header(s, width);
    for m in list {
        out += &row(s, m, width);
    }
    out
}

fn header(s: &Style, width: usize) -> String {
    if s.posix {
        return format!(
            "Filesystem {} Used Available Capacity Mounted on\n",
            s.header
        );
    }
    let w = (width + 10).saturating_sub(s.header.len());
    let name: String = "Filesystem".chars().take(w).collect();
    let mut h = format!("{name:<w$} {}       Used      Avail %Cap", s.header);
    if s.inodes {
        h += "    iUsed   iAvail %iCap";
    }
    h + " Mounted on\n"
}

/// One file system's line.
fn row(s: &Style, m: &StatVfs, width: usize) -> String {
    let used = m.blocks as i64 - m.bfree as i64;
    let avail = m.bfree as i64 - m.bresvd as i64;
    let availblks = avail + used;
    let cap = if availblks == 0 {
        "100".to_string()
    } else {
        percent(used, availblks)
    };
    let blk = |n: i64| in_blocks(n, m.frsize, s.blocksize);
    if s.posix {
        return format!(
            "{} {} {} {} {cap}% {}\n",
            m.mntfromname,
            blk(m.blocks as i64),
            blk(used),
            blk(avail),
            m.mntonname
        );
    }
    let mut r = format!("{:<width$} ", m.mntfromname);
    r += &size_columns(s, m, used, avail);
    r += &format!(" {cap:>3}%");
    if s.inodes {
        r += &inode_columns(m);
    }
    r + &format!(" {}\n", m.mntonname)
}

/// Size, used and available: in blocks, or humanized bytes with -h.
fn size_columns(s: &Style, m: &StatVfs, used: i64, avail: i64) -> String {
    if s.human {
        let bytes = |n: i64| humanize(n.saturating_mul(m.frsize as i64), 5).unwrap_or_default();
        return format!(
            "    {:>6}     {:>6}     {:>6}",
            bytes(m.blocks as i64),
            bytes(used),
            bytes(avail)
        );
    }
    let blk = |n: i64| in_blocks(n, m.frsize, s.blocksize);
    format!(
        "{:>10} {:>10} {:>10}",
        blk(m.blocks as i64),
        blk(used),
        blk(avail)
    )
}

/// -i: inodes used, free, and the percentage used.
fn inode_columns(m: &StatVfs) -> String {
    let inodes = m.files as i64;
    let iused = inodes - m.ffree as i64;
    let icap = match (inodes, iused) {
        (0, 0) => "  0".to_string(),
        (0, _) => "100".to_string(),
        _ => percent(iused, inodes),
    };
    format!(" {iused:>8} {:>8} {icap:>4}%", m.ffree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(from: &str, on: &str, frsize: u64, blocks: u64, bfree: u64) -> StatVfs {
        StatVfs {
            frsize,
            bsize: frsize,
            blocks,
            bfree,
            bavail: bfree,
            files: 1000,
            ffree: 990,
            fstypename: "tmpfs".into(),
            mntfromname: from.into(),
            mntonname: on.into(),
            ..StatVfs::default()
        }
    }

    fn st(flags: &str) -> Style {
        let opts: Vec<Opt> = flags.chars().map(Opt::Flag).collect();
        style("df", &super::flags(&opts).unwrap()).unwrap()
    }

    #[test]
    fn default_table() {
        let s = Style {
            blocksize: 512,
            header: "512-blocks".into(),
            ..st("k")
        };
        let t = table(&s, &[fs("tmpfs", "/", 4096, 1000, 750)]);
        assert_eq!(
            t,
            "Filesystem   512-blocks       Used      Avail %Cap Mounted on\n\
             tmpfs              8000       2000       6000  25% /\n"
        );
    }

    #[test]
    fn kilobytes_and_inodes() {
        let t = table(&st("ki"), &[fs("/dev/wd0a", "/mnt", 4096, 300, 200)]);
        assert_eq!(
            t,
            "Filesystem    1K-blocks       Used      Avail %Cap    iUsed   iAvail %iCap Mounted on\n\
             /dev/wd0a          1200        400        800  33%       10      990    1% /mnt\n"
        );
    }

    #[test]
    fn human_and_posix() {
        let t = table(&st("h"), &[fs("tmpfs", "/tmp", 4096, 2560, 1280)]);
        assert_eq!(
            t,
            "Filesystem         Size       Used      Avail %Cap Mounted on\n\
             tmpfs               10M       5.0M       5.0M  50% /tmp\n"
        );
        let t = table(&st("Pk"), &[fs("tmpfs", "/tmp", 4096, 2560, 1280)]);
        assert_eq!(
            t,
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
             tmpfs 10240 5120 5120 50% /tmp\n"
        );
        assert_eq!(table(&st("k"), &[]), "", "no header without lines");
        let full = table(&st("k"), &[fs("x", "/x", 512, 0, 0)]);
        assert!(
            full.ends_with("  0          0          0 100% /x\n"),
            "{full}"
        );
    }

    #[test]
    fn switches_and_selection() {
        let opts = [Opt::Flag('P'), Opt::Flag('i')];
        assert!(flags(&opts).is_err());
        let m = fs("a", "/a", 512, 1, 1);
        let mut hidden = fs("b", "/b", 512, 1, 1);
        hidden.flag = MNT_IGNORE as u64;
        let f = Flags::default();
        assert_eq!(select(&f, vec![m.clone(), hidden.clone()]).len(), 1);
        let all = Flags {
            all: true,
            ..Flags::default()
        };
        assert_eq!(select(&all, vec![m, hidden]).len(), 2);
        assert!(type_selected(&Some("ffs,tmpfs".into()), "tmpfs"));
        assert!(!type_selected(&Some("notmpfs".into()), "tmpfs"));
        assert_eq!(in_blocks(10, 4096, 1024), 40);
        assert_eq!(in_blocks(10, 512, 1024), 5);
    }
}

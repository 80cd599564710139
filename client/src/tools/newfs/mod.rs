//! rump.newfs [-FINZ] [-O format] [-b bsize] [-f fsize] [-i density]
//! [-n inodes] [-m minfree] [-o time|space] [-s size] [-V level] ...
//! special: newfs(8) for a device (or, with -F, an image file) inside
//! the kernel. It makes a UFS1 (-O 1, the default as in NetBSD) or UFS2
//! (-O 2) file system, little-endian, with NetBSD's default sizes for
//! the device's size, prints newfs's summary and backup superblock
//! list, and with -N stops there without writing.

mod layout;
mod write;

use super::common::{parse_args, say, warnx};
use super::getopt::Opt;
use super::ufs::disk::{Disk, DiskKind, KernelDisk};
use super::ufs::sb::Geometry;
use super::ufs::{
    Ufs, AFPDIR, AVFILESIZ, DEV_BSIZE, FS_OPTSPACE, FS_OPTTIME, MAXBSIZE, MINBSIZE, MINFREE,
};
use crate::Client;
use layout::Params;
use netbsd_abi::fcntl::{O_CREAT, O_RDONLY, O_RDWR};
use std::io::Write;

/// Fragment size by file system size (sectors): below 20 MiB, 1000 MiB,
/// 128 GiB, and above.
const SMALL_FSSIZE: u64 = 20 * 1024 * 2;
const MEDIUM_FSSIZE: u64 = 1000 * 1024 * 2;
const LARGE_FSSIZE: u64 = 128 * 1024 * 1024 * 2;
/// Fragments per block by default.
const DFL_FRAG_BLK: u64 = 8;
/// Fragments of data per inode by default.
const NFPI: u64 = 4;
/// The largest transfer (MAXPHYS), for the default cluster length.
const MAXPHYS: u64 = 65_536;
/// How much newfs prints by default (4 lists every backup).
const DEFAULT_VERBOSITY: i64 = 3;
/// Terminal width assumed for the backup list.
const COLUMNS: usize = 80;

const HELP: &[&str] = &[
    "-B byteorder\tbyte order (`le' only)",
    "-F \t\tcreate file system image in regular file",
    "-I \t\tdo not check that the file system type is '4.2BSD'",
    "-N \t\tdo not create file system, just print out parameters",
    "-O N\t\tfilesystem format: 1 => FFSv1, 2 => FFSv2",
    "-S secsize\tsector size (512)",
    "-V verbose\toutput verbosity: 0 ==> none, 4 ==> max",
    "-Z \t\tpre-zero the image file",
    "-a maxcontig\tmaximum contiguous blocks",
    "-b bsize\tblock size",
    "-d maxbsize\tmaximum extent size",
    "-e maxbpg\tmaximum blocks per file in a cylinder group",
    "-f fsize\tfrag size",
    "-g avgfilesize\taverage file size",
    "-h avgfpdir\taverage files per directory",
    "-i density\tnumber of bytes per inode",
    "-m minfree\tminimum free space %",
    "-n inodes\tnumber of inodes (overrides -i density)",
    "-o optim\toptimization preference (`space' or `time')",
    "-s fssize\tfile system size (sectors)",
];

fn usage(prog: &str) -> String {
    let mut u = format!("usage: {prog} [ fsoptions ] special-device\nwhere fsoptions are:\n");
    for h in HELP {
        u += &format!("\t{h}\n");
    }
    u
}

/// An error that ends newfs: message and exit status.
#[derive(Debug)]
struct Stop(String, i32);

fn stop(msg: impl Into<String>) -> Stop {
    Stop(msg.into(), 1)
}

/// The command line.
#[derive(Debug, Default)]
struct Flags {
    image: bool,
    dry_run: bool,
    zero: bool,
    format: Option<i64>,
    verbosity: Option<i64>,
    bsize: u64,
    fsize: u64,
    density: u64,
    inodes: u64,
    minfree: Option<i64>,
    optim: Option<i32>,
    maxcontig: u64,
    maxbsize: u64,
    maxbpg: u64,
    avgfilesize: Option<i64>,
    avgfpdir: Option<i64>,
    /// -s: the number and whether it had a byte suffix.
    size: Option<(i64, bool)>,
}

/// newfs's number syntax: digits and an optional suffix (b: bytes;
/// k, m, g, t: binary multiples of bytes; s or none: as is), checked
/// against a range. Returns the value and whether it was in bytes.
fn number(desc: &str, arg: &str, min: i64, max: i64) -> Result<(i64, bool), Stop> {
    let split = arg
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(arg.len(), |(i, _)| i);
    let (digits, suffix) = arg.split_at(split);
    if suffix.chars().count() > 1 || digits.is_empty() || digits == "-" || digits == "+" {
        return Err(stop(format!("{desc} `{arg}' is not a valid number.")));
    }
    let value: i64 = digits
        .parse()
        .map_err(|_| stop(format!("{desc} `{arg}' is too large to convert.")))?;
    let (shift, bytes) = match suffix {
        "" | "s" | "S" => (0, false),
        "b" | "B" => (0, true),
        "k" | "K" => (10, true),
        "m" | "M" => (20, true),
        "g" | "G" => (30, true),
        "t" | "T" => (40, true),
        _ => {
            return Err(stop(format!(
                "`{suffix}' is not a valid suffix for {desc}."
            )))
        }
    };
    let result = value
        .checked_mul(1 << shift)
        .ok_or_else(|| stop(format!("{desc} `{arg}' is too large to convert.")))?;
    if result < min {
        return Err(stop(format!(
            "{desc} `{arg}' ({result}) is less than the minimum ({min})."
        )));
    }
    if result > max {
        return Err(stop(format!(
            "{desc} `{arg}' ({result}) is greater than the maximum ({max})."
        )));
    }
    Ok((result, bytes))
}

fn unsigned(desc: &str, arg: &str, min: i64, max: i64) -> Result<u64, Stop> {
    number(desc, arg, min, max).map(|(v, _)| v as u64)
}

fn flags(opts: &[Opt]) -> Result<Flags, Stop> {
    const IMAX: i64 = i32::MAX as i64;
    let mut f = Flags::default();
    for o in opts {
        match o {
            Opt::Flag('F') => f.image = true,
            Opt::Flag('I') => {}
            Opt::Flag('N') => {
                f.dry_run = true;
                f.verbosity.get_or_insert(DEFAULT_VERBOSITY);
            }
            Opt::Flag('Z') => f.zero = true,
            Opt::Arg('B', v) => match v.as_str() {
                "le" => {}
                "be" => return Err(stop("big-endian file systems are not supported")),
                _ => return Err(Stop(String::new(), -1)),
            },
            Opt::Arg('O', v) => f.format = Some(number("format", v, 0, 2)?.0),
            Opt::Arg('S', v) => {
                let s = number("sector size", v, 512, 65_536)?.0;
                if s & (s - 1) != 0 {
                    return Err(stop(format!("sector size `{v}' is not a power of 2.")));
                }
                if s != DEV_BSIZE as i64 {
                    return Err(stop(format!(
                        "sector size {s} is not supported: devices have {DEV_BSIZE}-byte sectors"
                    )));
                }
            }
            Opt::Arg('V', v) => f.verbosity = Some(number("verbose", v, 0, 4)?.0),
            Opt::Arg('a', v) => f.maxcontig = unsigned("maximum contiguous blocks", v, 1, IMAX)?,
            Opt::Arg('b', v) => {
                f.bsize = unsigned("block size", v, MINBSIZE as i64, MAXBSIZE as i64)?
            }
            Opt::Arg('d', v) => f.maxbsize = unsigned("maximum extent size", v, 0, IMAX)?,
            Opt::Arg('e', v) => {
                f.maxbpg = unsigned("blocks per file in a cylinder group", v, 1, IMAX)?
            }
            Opt::Arg('f', v) => f.fsize = unsigned("fragment size", v, 1, MAXBSIZE as i64)?,
            Opt::Arg('g', v) => f.avgfilesize = Some(number("average file size", v, 1, IMAX)?.0),
            Opt::Arg('h', v) => {
                f.avgfpdir = Some(number("expected files per directory", v, 1, IMAX)?.0)
            }
            Opt::Arg('i', v) => f.density = unsigned("bytes per inode", v, 1, IMAX)?,
            Opt::Arg('m', v) => f.minfree = Some(number("free space %", v, 0, 99)?.0),
            Opt::Arg('n', v) => f.inodes = unsigned("number of inodes", v, 1, IMAX)?,
            Opt::Arg('o', v) => {
                f.optim = Some(match v.as_str() {
                    "space" => FS_OPTSPACE,
                    "time" => FS_OPTTIME,
                    _ => {
                        return Err(stop(
                            "unknown optimization preference:  use `space' or `time'.",
                        ))
                    }
                })
            }
            Opt::Arg('s', v) => f.size = Some(number("file system size", v, i64::MIN, i64::MAX)?),
            Opt::Flag('G') => return Err(stop("-G (garbage parameters) is not supported")),
            Opt::Arg('T', _) => return Err(stop("-T: disk types are not supported")),
            Opt::Arg('q', _) => return Err(stop("-q: in-filesystem quotas are not supported")),
            Opt::Arg('v', _) => return Err(stop("-v: Apple UFS is not supported")),
            Opt::Arg(c @ ('l' | 'r'), _) => return Err(stop(format!("-{c} is not supported"))),
            _ => {}
        }
    }
    match f.format {
        Some(0) => Err(stop("-O 0 (4.3BSD format) is not supported")),
        _ => Ok(f),
    }
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = usage(prog);
    let (opts, operands) = match parse_args(
        prog,
        args,
        "B:FGINO:S:T:V:Za:b:d:e:f:g:h:i:l:m:n:o:q:r:s:v:",
        &text,
    ) {
        Ok(v) => v,
        Err(status) => return status,
    };
    match run(prog, &opts, &operands) {
        Ok(()) => 0,
        Err(Stop(msg, -1)) => {
            if !msg.is_empty() {
                warnx(prog, msg);
            }
            eprint!("{text}");
            1
        }
        Err(Stop(msg, status)) => {
            if !msg.is_empty() {
                warnx(prog, msg);
            }
            status
        }
    }
}

fn run(prog: &str, opts: &[Opt], operands: &[String]) -> Result<(), Stop> {
    let f = flags(opts)?;
    let [special] = operands else {
        return Err(Stop(String::new(), -1));
    };
    let client = super::connect(prog).map_err(|s| Stop(String::new(), s))?;
    let verbosity = f.verbosity.unwrap_or(DEFAULT_VERBOSITY);
    let (sizeval, byte_sized) = f.size.unwrap_or((0, false));
    let mut disk = open(&client, special, &f, sizeval)?;
    if !f.dry_run && !f.image {
        refuse_mounted(&client, special)?;
    }
    let mut sectors = if byte_sized {
        sizeval / DEV_BSIZE as i64
    } else {
        sizeval
    };
    if sectors <= 0 {
        sectors = sectors.saturating_add((disk.size() / DEV_BSIZE) as i64);
        if sectors <= 0 {
            return Err(stop("Unable to determine file system size"));
        }
    }
    let sectors = sectors as u64;
    if !f.image && sectors > disk.size() / DEV_BSIZE {
        return Err(stop(format!(
            "size {sectors} exceeds maximum file system size on `{special}' of {} sectors",
            disk.size() / DEV_BSIZE
        )));
    }
    if f.image && !f.dry_run {
        disk.set_len(sectors * DEV_BSIZE)
            .map_err(|e| stop(format!("can't ftruncate {special} to {sectors}: {e}")))?;
    }
    if f.zero && !f.dry_run {
        prezero(&disk, special, sectors, verbosity)?;
    }
    let p = params(prog, &f, sectors)?;
    let (sb, raised) = layout::plan(&p).map_err(|r| {
        say(&r.message);
        Stop(String::new(), r.status)
    })?;
    if let (Some(n), true) = (raised, verbosity > 0) {
        say(&format!("Maxcontig raised to {n}"));
    }
    let size_bytes = sb.size as u64 * p.fsize;
    let g = Geometry::new(&sb, sb.sblockloc as u64, false, size_bytes)
        .map_err(|why| stop(format!("internal error: the layout is impossible: {why}")))?;
    print_summary(special, &g, verbosity, f.dry_run);
    if f.dry_run {
        return Ok(());
    }
    let (_, euid) = client.getuid().unwrap_or((0, 0));
    let (_, egid) = client.getgid().unwrap_or((0, 0));
    let now = netbsd_abi::stat::Timespec::now();
    let root = write::Root {
        uid: euid,
        gid: egid,
        time: now.sec,
        nsec: now.nsec as i32,
    };
    write::write(&disk, &g, sectors, &root, &mut write::Gens::new()).map_err(|e| {
        say(&e.message);
        Stop(String::new(), e.status)
    })?;
    disk.sync()
        .map_err(|e| stop(format!("{special}: sync: {e}")))
}

/// Opens the target: a device, or with -F an image file (created when
/// a size is given).
fn open<'a>(
    client: &'a Client,
    special: &str,
    f: &Flags,
    size: i64,
) -> Result<KernelDisk<'a>, Stop> {
    let path = special.as_bytes();
    let flags = match (f.dry_run, f.image && size > 0) {
        (true, _) => O_RDONLY,
        (false, true) => O_RDWR | O_CREAT,
        (false, false) => O_RDWR,
    };
    let disk = KernelDisk::open(client, path, flags, 0o777).map_err(|e| {
        if f.image {
            stop(format!("can't open file {special}: {e}"))
        } else {
            stop(format!("{special}: open for read: {e}"))
        }
    })?;
    match (disk.kind, f.image) {
        (DiskKind::File, false) => Err(stop(format!(
            "{special}: not a disk device (use -F for an image file)"
        ))),
        _ => Ok(disk),
    }
}

/// newfs will not write on a mounted file system.
fn refuse_mounted(client: &Client, special: &str) -> Result<(), Stop> {
    let mounts = client
        .getvfsstat()
        .map_err(|e| stop(format!("{special}: getmntinfo: {e}")))?;
    match mounts.iter().find(|m| m.mntfromname == special) {
        Some(m) => Err(stop(format!("{special} is mounted on {}", m.mntonname))),
        None => Ok(()),
    }
}

/// -Z: zeros over the whole image first.
fn prezero(disk: &KernelDisk<'_>, special: &str, sectors: u64, verbosity: i64) -> Result<(), Stop> {
    const CHUNK: u64 = 1 << 16;
    let total = sectors * DEV_BSIZE;
    if verbosity > 0 {
        say(&format!(
            "Creating file system image in `{special}', size {total} bytes, in {CHUNK} byte chunks."
        ));
    }
    let zeros = vec![0u8; CHUNK as usize];
    let mut at = 0;
    while at < total {
        let n = CHUNK.min(total - at) as usize;
        disk.write_at(at, &zeros[..n])
            .map_err(|e| stop(format!("writing image: {e}")))?;
        at += n as u64;
    }
    Ok(())
}

/// The layout parameters: the options, and NetBSD's defaults where an
/// option was not given.
fn params(prog: &str, f: &Flags, sectors: u64) -> Result<Params, Stop> {
    let ufs = match f.format.unwrap_or(1) {
        2 => Ufs::V2,
        _ => Ufs::V1,
    };
    let mut fsize = f.fsize;
    if fsize == 0 {
        fsize = f.bsize / DFL_FRAG_BLK;
        if fsize == 0 {
            fsize = match sectors {
                s if s < SMALL_FSSIZE => 512,
                s if s < MEDIUM_FSSIZE => 1024,
                s if s < LARGE_FSSIZE => 2048,
                _ => 4096,
            };
        }
    }
    let bsize = if f.bsize == 0 {
        DFL_FRAG_BLK * fsize
    } else {
        f.bsize
    };
    let maxcontig = if f.maxcontig == 0 {
        (MAXPHYS.min(MAXBSIZE) / bsize).max(1)
    } else {
        f.maxcontig
    };
    let mut minfree = f.minfree.unwrap_or(i64::from(MINFREE)) as i32;
    let mut optim = f.optim.unwrap_or(FS_OPTTIME);
    if minfree < MINFREE && optim != FS_OPTSPACE {
        warnx(
            prog,
            format!(
                "Warning: changing optimization to space because minfree is less than {MINFREE}%"
            ),
        );
        optim = FS_OPTSPACE;
    }
    minfree = minfree.clamp(0, 99);
    let maxbpg = match (f.maxbpg, ufs) {
        (0, Ufs::V1) => bsize / 4,
        (0, Ufs::V2) => bsize / 8,
        (n, _) => n,
    };
    let now = netbsd_abi::stat::Timespec::now().sec;
    Ok(Params {
        ufs,
        sectors,
        bsize,
        fsize,
        density: if f.density == 0 {
            NFPI * fsize
        } else {
            f.density
        },
        inodes: f.inodes,
        minfree,
        optim,
        maxcontig,
        maxbsize: f.maxbsize,
        maxbpg,
        avgfilesize: f.avgfilesize.unwrap_or(i64::from(AVFILESIZ)) as i32,
        avgfpdir: f.avgfpdir.unwrap_or(i64::from(AFPDIR)) as i32,
        time: now,
        id: write::Gens::new().next(),
    })
}

/// A C `%.Nf` of a float computed in single precision, as newfs does.
fn fixed(v: f32, digits: usize) -> String {
    format!("{:.*}", digits, f64::from(v))
}

/// newfs's summary lines and list of backup superblocks.
fn print_summary(special: &str, g: &Geometry, verbosity: i64, dry_run: bool) {
    let mib = 1.0 / (1024.0 * 1024.0);
    if verbosity > 0 {
        let total = (g.size * g.fsize) as f32;
        say(&format!(
            "{special}: {}MB ({} sectors) block size {}, fragment size {}",
            fixed((f64::from(total) * mib) as f32, 1),
            g.size << g.fsbtodb,
            g.bsize,
            g.fsize
        ));
        let cgbytes = (g.fpg * g.fsize) as f32;
        say(&format!(
            "\tusing {} cylinder groups of {}MB, {} blks, {} inodes.",
            g.ncg,
            fixed((f64::from(cgbytes) * mib) as f32, 2),
            g.fpg / g.frag,
            g.ipg
        ));
    }
    let list = backup_list(g, verbosity, dry_run);
    let mut out = std::io::stdout();
    let _ = out.write_all(list.as_bytes());
    let _ = out.flush();
}

/// The backup superblock list: sector numbers, as many lines as fit
/// (all of them at verbosity 4), then dots (verbosity 2 prints only
/// dots; -N prints " ..." instead).
fn backup_list(g: &Geometry, verbosity: i64, dry_run: bool) -> String {
    const BASE: usize = 0x10000;
    let mut out = String::new();
    if verbosity >= 3 {
        out += "super-block backups (for fsck_ffs -b #) at:\n";
    }
    if verbosity < 2 {
        return out;
    }
    let ncg = g.ncg as usize;
    let sector = |c: u64| g.cgsblock(c) << g.fsbtodb;
    let width = if verbosity < 4 {
        1
    } else {
        sector(g.ncg - 1).to_string().len()
    };
    let max_cols = if dry_run && verbosity == 3 {
        COLUMNS - 4
    } else {
        COLUMNS
    };
    let mut col = 0usize;
    let mut delta = if verbosity > 2 {
        0
    } else {
        max_cols * BASE / ncg
    };
    for c in 0..ncg {
        if delta > 0 {
            if dry_run {
                break;
            }
            col += delta;
            while col > BASE {
                out.push('.');
                col -= BASE;
            }
            continue;
        }
        let item = format!(
            "{}{:>width$},",
            if col > 0 { " " } else { "" },
            sector(c as u64)
        );
        let len = item.len();
        out += &item;
        col += len;
        if col + len < max_cols {
            continue;
        }
        if verbosity <= 3 {
            let left = ncg - c - 1;
            if left != 0 && dry_run {
                out += " ...";
                break;
            }
            delta = (max_cols * BASE).checked_div(left).unwrap_or(0);
        }
        col = 0;
        out.push('\n');
    }
    if col > 0 {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_newfs_suffixes() {
        assert_eq!(number("x", "64m", 0, i64::MAX).unwrap(), (64 << 20, true));
        assert_eq!(number("x", "100", 0, 1000).unwrap(), (100, false));
        assert_eq!(number("x", "100s", 0, 1000).unwrap(), (100, false));
        assert_eq!(number("x", "8k", 0, 1 << 20).unwrap(), (8192, true));
        assert_eq!(number("x", "-20", i64::MIN, 0).unwrap(), (-20, false));
        assert_eq!(
            number("block size", "3q", 0, 10).err().unwrap().0,
            "`q' is not a valid suffix for block size."
        );
        assert_eq!(
            number("block size", "12kk", 0, 10).err().unwrap().0,
            "block size `12kk' is not a valid number."
        );
        assert_eq!(
            number("free space %", "120", 0, 99).err().unwrap().0,
            "free space % `120' (120) is greater than the maximum (99)."
        );
    }

    #[test]
    fn float_format() {
        assert_eq!(fixed(64.0, 1), "64.0");
        assert_eq!(fixed(0.25, 1), "0.2");
        assert_eq!(fixed(16.0, 2), "16.00");
    }
}

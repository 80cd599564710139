//! rump.newfs_ext2fs [-FINZ] [-b block-size] [-D inodesize]
//! [-i bytes-per-inode] [-m free-space] [-n inodes] [-O revision]
//! [-s size] [-V verbose] [-v volname] special: makes an ext2 file
//! system on a device of the kernel, as newfs_ext2fs(8) does on a disk.
//!
//! The size comes from the device (DIOCGMEDIASIZE, or fstat for a
//! regular file) unless `-s` gives it: in sectors, or in bytes with a
//! b, k, m or g suffix; a negative size leaves that much at the end.
//! `-N` prints the parameters and writes nothing; `-Z` zeroes the whole
//! file system first; `-F` and `-I` are accepted for compatibility (there
//! is no disk label to consult). `-i` is bytes per inode (NetBSD's
//! divides sectors by it). Revision 1 (the default) gets the filetype,
//! sparse_super and large_file features.

mod image;
mod layout;

use super::common::{parse_args, usage, warnx};
use super::getopt::Opt;
use crate::Client;
use image::{Identity, Image};
use layout::{Layout, Params, SECTOR};
use netbsd_abi::fcntl::{O_RDONLY, O_RDWR};
use netbsd_abi::ioctl::DIOCGMEDIASIZE;

const USAGE: &str = "\t-b bsize\tblock size\n\
\t-D inodesize\tsize of an inode in bytes (128 or 256)\n\
\t-F \t\tthe special file is a regular file (no disk label)\n\
\t-I \t\tdo not check the partition type\n\
\t-i density\tnumber of bytes per inode\n\
\t-m minfree\tminimum free space %\n\
\t-N \t\tdo not create file system, just print out parameters\n\
\t-n inodes\tnumber of inodes (overrides -i density)\n\
\t-O N\t\tfilesystem revision: 0 ==> REV0, 1 ==> REV1 (default 1)\n\
\t-s fssize\tfile system size (sectors)\n\
\t-V verbose\toutput verbosity: 0 ==> none, 4 ==> max\n\
\t-v volname\text2fs volume name\n\
\t-Z \t\tpre-zero the file system\n";

/// Largest write request.
const CHUNK: usize = 256 << 10;

/// A number with an optional suffix, as newfs_ext2fs reads it: none or
/// `s` for sectors (the unit is the caller's), `b`, `k`, `m`, `g` for
/// bytes. Returns (value, whether a byte suffix was given).
fn number(desc: &str, arg: &str, min: i64, max: i64) -> Result<(i64, bool), String> {
    let split = arg
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(arg.len(), |(i, _)| i);
    let (digits, suffix) = arg.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("{desc} `{arg}' is not a valid number."))?;
    let (shift, bytes) = match suffix {
        "" | "s" | "S" => (0, false),
        "b" | "B" => (0, true),
        "k" | "K" => (10, true),
        "m" | "M" => (20, true),
        "g" | "G" => (30, true),
        _ => return Err(format!("`{suffix}' is not a valid suffix for {desc}.")),
    };
    let v = n
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{desc} `{arg}' is too large to convert."))?;
    if v < min {
        return Err(format!(
            "{desc} `{arg}' ({v}) is less than the minimum ({min})."
        ));
    }
    if v > max {
        return Err(format!(
            "{desc} `{arg}' ({v}) is greater than the maximum ({max})."
        ));
    }
    Ok((v, bytes))
}

/// What the options say.
struct Options {
    params: Params,
    size: Option<(i64, bool)>,
    dry_run: bool,
    zero: bool,
    verbosity: i64,
    volume: Vec<u8>,
}

fn options(opts: Vec<Opt>) -> Result<Options, String> {
    let mut o = Options {
        params: Params {
            sectors: 0,
            bsize: 0,
            density: 0,
            inodes: 0,
            minfree: 5,
            rev: 1,
            inode_size: 128,
        },
        size: None,
        dry_run: false,
        zero: false,
        verbosity: 3,
        volume: Vec::new(),
    };
    for opt in opts {
        match opt {
            Opt::Flag('N') => o.dry_run = true,
            Opt::Flag('Z') => o.zero = true,
            Opt::Flag(_) => {}
            Opt::Arg('b', v) => o.params.bsize = number("block size", &v, 1024, 65536)?.0 as u32,
            Opt::Arg('D', v) => match v.parse::<u32>() {
                Ok(n @ (128 | 256)) => o.params.inode_size = n,
                _ => return Err(format!("Bad inode size {v} (only 128 and 256 supported)")),
            },
            Opt::Arg('i', v) => {
                o.params.density = number("bytes per inode", &v, 1, i64::from(i32::MAX))?.0 as u64
            }
            Opt::Arg('m', v) => o.params.minfree = number("free space %", &v, 0, 99)?.0 as u32,
            Opt::Arg('n', v) => {
                o.params.inodes = number("number of inodes", &v, 1, i64::from(i32::MAX))?.0 as u64
            }
            Opt::Arg('O', v) => o.params.rev = number("format", &v, 0, 1)?.0 as u32,
            Opt::Arg('s', v) => o.size = Some(number("file system size", &v, i64::MIN, i64::MAX)?),
            Opt::Arg('V', v) => o.verbosity = number("verbose", &v, 0, 4)?.0,
            Opt::Arg('v', v) => {
                if v.is_empty() {
                    return Err("Volume name cannot be zero length".into());
                }
                if v.len() > 16 {
                    return Err("Volume name is too long".into());
                }
                o.volume = v.into_bytes();
            }
            Opt::Arg(..) => {}
        }
    }
    if o.params.rev == 0 && o.params.inode_size != 128 {
        return Err(format!(
            "GOOD_OLD_REV file system format doesn't support {} byte inode",
            o.params.inode_size
        ));
    }
    Ok(o)
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("usage: {prog} [ fsoptions ] special-device\nwhere fsoptions are:\n{USAGE}");
    let (opts, rest) = match parse_args(prog, args, "b:D:FIi:m:Nn:O:s:V:v:Z", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let [special] = rest.as_slice() else {
        return usage(&text);
    };
    let o = match options(opts) {
        Ok(o) => o,
        Err(msg) => {
            warnx(prog, msg);
            return 1;
        }
    };
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match run(&client, special, o) {
        Ok(()) => 0,
        Err(msg) => {
            warnx(prog, msg);
            1
        }
    }
}

/// A random (version 4) UUID for the new file system.
fn new_uuid(now: u32) -> [u8; 16] {
    use std::io::Read;
    let mut u = [0u8; 16];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut u));
    if random.is_err() {
        for (i, b) in u.iter_mut().enumerate() {
            *b = (now >> (i % 4 * 8)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

fn run(client: &Client, special: &str, o: Options) -> Result<(), String> {
    let path = special.as_bytes();
    let flags = if o.dry_run { O_RDONLY } else { O_RDWR };
    let fd = client.open(path, flags, 0).map_err(|e| {
        format!(
            "{special}: open for {}: {e}",
            if o.dry_run { "read" } else { "write" }
        )
    })?;
    let result = make(client, fd, special, o);
    let _ = client.close(fd);
    result
}

fn make(client: &Client, fd: i32, special: &str, mut o: Options) -> Result<(), String> {
    if !o.dry_run {
        if let Ok(mounts) = client.getvfsstat() {
            if let Some(m) = mounts.iter().find(|m| m.mntfromname == special) {
                return Err(format!("{special} is mounted on {}", m.mntonname));
            }
        }
    }
    let mut size = [0u8; 8];
    let dev_bytes = match client.ioctl(fd, DIOCGMEDIASIZE, &mut size) {
        Ok(_) => u64::from_le_bytes(size),
        Err(_) => client
            .fstat(fd)
            .map(|st| st.size.max(0) as u64)
            .map_err(|e| format!("{special}: fstat: {e}"))?,
    };
    let dev_sectors = dev_bytes / SECTOR;
    let mut sectors = match o.size {
        Some((n, true)) => n / SECTOR as i64,
        Some((n, false)) => n,
        None => 0,
    };
    if sectors <= 0 {
        sectors += dev_sectors as i64;
        if sectors <= 0 {
            return Err("Unable to determine file system size".into());
        }
    }
    let sectors = sectors as u64;
    if sectors > dev_sectors {
        return Err(format!(
            "size {sectors} exceeds maximum file system size on `{special}' of {dev_sectors} sectors"
        ));
    }
    o.params.sectors = sectors;
    let l = Layout::new(&o.params)?;
    if o.verbosity > 0 {
        let bytes = l.blocks * u64::from(l.bsize);
        println!(
            "{special}: {}.{}MB ({sectors} sectors) block size {}, fragment size {}",
            bytes >> 20,
            ((bytes & ((1 << 20) - 1)) * 10) >> 20,
            l.bsize,
            l.bsize
        );
        println!(
            "\tusing {} block groups of {}.0MB, {} blks, {} inodes.",
            l.groups,
            (l.blocks_per_group * u64::from(l.bsize)) >> 20,
            l.blocks_per_group,
            l.inodes_per_group
        );
    }
    report_backups(&l, o.verbosity);
    if o.dry_run {
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let id = Identity {
        now,
        uuid: new_uuid(now),
        volume: std::mem::take(&mut o.volume),
    };
    let img = Image::build(&l, &id);
    let bs = u64::from(l.bsize);
    let write = |at: u64, data: &[u8]| -> Result<(), String> {
        let mut done = 0;
        while done < data.len() {
            let n = (data.len() - done).min(CHUNK);
            let w = client
                .pwrite(fd, &data[done..done + n], (at + done as u64) as i64)
                .map_err(|e| format!("{special}: write at {}: {e}", at + done as u64))?;
            if w == 0 {
                return Err(format!("{special}: short write at {}", at + done as u64));
            }
            done += w;
        }
        Ok(())
    };
    let zeros = vec![0u8; CHUNK];
    let zero = |first: u64, count: u64| -> Result<(), String> {
        let (mut at, end) = (first * bs, (first + count) * bs);
        while at < end {
            let n = ((end - at) as usize).min(CHUNK);
            write(at, &zeros[..n])?;
            at += n as u64;
        }
        Ok(())
    };
    if o.zero {
        zero(0, l.blocks)?;
    }
    for &(first, count) in &img.zero {
        zero(first, count)?;
    }
    for (at, data) in &img.writes {
        write(*at, data)?;
    }
    let _ = client.fsync(fd);
    Ok(())
}

/// The superblock backup list (verbosity 3 and 4), or a dot per backup
/// (verbosity 2).
fn report_backups(l: &Layout, verbosity: i64) {
    if verbosity < 2 {
        return;
    }
    let backups: Vec<u64> = l
        .group
        .iter()
        .skip(1)
        .filter(|g| g.has_super)
        .map(|g| g.first)
        .collect();
    if verbosity == 2 {
        if !backups.is_empty() {
            println!("{}", ".".repeat(backups.len()));
        }
        return;
    }
    println!("super-block backups (for fsck_ext2fs -b #) at:");
    let mut line = String::new();
    for b in backups {
        let item = format!("{b},");
        if !line.is_empty() && line.len() + 1 + item.len() >= 80 {
            println!("{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&item);
    }
    if !line.is_empty() {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_suffixes() {
        assert_eq!(number("x", "100", 0, 1000), Ok((100, false)));
        assert_eq!(number("x", "8m", 0, i64::MAX), Ok((8 << 20, true)));
        assert_eq!(number("x", "-2k", i64::MIN, 0), Ok((-2048, true)));
        assert_eq!(number("x", "20s", 0, 100), Ok((20, false)));
        assert!(number("x", "2q", 0, 100)
            .unwrap_err()
            .contains("not a valid suffix"));
        assert!(number("x", "200", 0, 100)
            .unwrap_err()
            .contains("greater than"));
        assert!(number("x", "abc", 0, 100).is_err());
    }

    #[test]
    fn option_checks() {
        let o = |v: &[(char, &str)]| {
            options(v.iter().map(|(c, a)| Opt::Arg(*c, a.to_string())).collect())
        };
        assert!(o(&[('O', "0"), ('D', "256")]).is_err());
        assert!(o(&[('D', "512")]).is_err());
        assert!(o(&[('v', "a-name-longer-than-16")]).is_err());
        let ok = o(&[('b', "2k"), ('m', "0"), ('v', "vol")]).unwrap();
        assert_eq!((ok.params.bsize, ok.params.minfree), (2048, 0));
        assert_eq!(ok.volume, b"vol");
    }
}

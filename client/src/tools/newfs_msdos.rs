//! rump.newfs_msdos [options] special: makes a FAT12, FAT16 or FAT32 file
//! system on a block device of the kernel, as newfs_msdos(8): the same
//! options, the same default FAT type and cluster size for a given size,
//! the same layout (FSInfo in sector 1 and the backup boot sector in
//! sector 2 on FAT32). The size comes from DIOCGMEDIASIZE (or fstat);
//! every metadata sector up to the end of the root directory is written,
//! the data area is left alone.

use super::common::{parse_args, usage, warnx};
use super::getopt::Opt;
use crate::Client;
use netbsd_abi::fcntl::{O_RDONLY, O_RDWR};
use netbsd_abi::ioctl::DIOCGMEDIASIZE;

const MAXU16: u32 = 0xffff;
const MINBPS: u32 = 512;
const MAXSPC: u32 = 128;
const MAXNFT: u32 = 16;
const DEFBLK: u32 = 4096;
const DEFBLK16: u32 = 2048;
const DEFRDE: u32 = 512;
const RESFTE: u32 = 2;
const MINCLS16: u32 = 0xff5;
const MAXCLS12: u32 = 0xff4;
const MAXCLS16: u32 = 0xfff4;

fn mincls(fat: u32) -> u32 {
    match fat {
        12 => 1,
        16 => MINCLS16,
        _ => 0xfff5,
    }
}

fn maxcls(fat: u32) -> u32 {
    match fat {
        12 => MAXCLS12,
        16 => MAXCLS16,
        _ => 0x0fff_fff4,
    }
}

/// The BIOS parameter block being built (newfs_msdos's `struct bpb`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bpb {
    pub bps: u32,
    pub spc: u32,
    pub res: u32,
    pub nft: u32,
    pub rde: u32,
    pub sec: u32,
    pub mid: u32,
    pub spf: u32,
    pub spt: u32,
    pub hds: u32,
    pub hid: u32,
    pub bsec: u32,
    pub bspf: u32,
    pub rdcl: u32,
    pub infs: u32,
    pub bkbs: u32,
}

/// What the command line asks for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub fat_type: u32,
    pub volume_id: Option<u32>,
    pub label: Option<String>,
    pub no_create: bool,
    pub oem: Option<String>,
    pub bytes_per_sector: u32,
    pub sectors_per_fat: u32,
    pub block_size: u32,
    pub sectors_per_cluster: u32,
    pub directory_entries: u32,
    pub floppy: Option<String>,
    pub heads: u32,
    pub info_sector: u32,
    pub backup_sector: u32,
    pub media: Option<u32>,
    pub nfats: u32,
    pub hidden: Option<u32>,
    pub reserved: u32,
    pub size: u32,
    pub sectors_per_track: u32,
}

/// The standard floppy formats of -f: (name, bps, spc, res, nft, rde,
/// sectors, media, spf, spt, heads).
const FLOPPIES: &[(&str, [u32; 10])] = &[
    ("160", [512, 1, 1, 2, 64, 320, 0xfe, 1, 8, 1]),
    ("180", [512, 1, 1, 2, 64, 360, 0xfc, 2, 9, 1]),
    ("320", [512, 2, 1, 2, 112, 640, 0xff, 1, 8, 2]),
    ("360", [512, 2, 1, 2, 112, 720, 0xfd, 2, 9, 2]),
    ("640", [512, 2, 1, 2, 112, 1280, 0xfb, 2, 8, 2]),
    ("720", [512, 2, 1, 2, 112, 1440, 0xf9, 3, 9, 2]),
    ("1200", [512, 1, 1, 2, 224, 2400, 0xf9, 7, 15, 2]),
    ("1232", [1024, 1, 1, 2, 192, 1232, 0xfe, 2, 8, 2]),
    ("1440", [512, 1, 1, 2, 224, 2880, 0xf0, 9, 18, 2]),
    ("2880", [512, 2, 1, 2, 240, 5760, 0xf0, 9, 36, 2]),
];

/// A volume label's characters (upper-cased later).
fn ok_label(s: &str) -> bool {
    s.len() <= 11
        && s.bytes()
            .all(|c| (b' '..=126).contains(&c) && !b"\"*+,./:;<=>?[\\]|".contains(&c))
}

/// The padded, upper-case 11-byte form of a label.
fn label_bytes(s: &str) -> [u8; 11] {
    let mut b = [b' '; 11];
    for (i, c) in s.bytes().take(11).enumerate() {
        b[i] = c.to_ascii_uppercase();
    }
    b
}

fn howmany(x: u64, y: u64) -> u64 {
    x.div_ceil(y)
}

/// The file system's layout and its summary, from the options and the
/// device's size in bytes.
#[derive(Debug)]
pub struct Layout {
    pub bpb: Bpb,
    pub fat_type: u32,
    pub clusters: u32,
    pub rds: u32,
}

/// Works out the layout as newfs_msdos does; an error message otherwise.
pub fn layout(o: &Options, dev_bytes: u64) -> Result<Layout, String> {
    if o.block_size != 0 && o.sectors_per_cluster != 0 {
        return Err("Cannot specify both block size and sectors per cluster".into());
    }
    if o.oem.as_ref().is_some_and(|s| s.len() > 8) {
        return Err(format!(
            "{}: bad OEM string",
            o.oem.as_deref().unwrap_or("")
        ));
    }
    let mut b = Bpb::default();
    let mut fat = o.fat_type;
    if let Some(f) = &o.floppy {
        let Some((_, v)) = FLOPPIES.iter().find(|(n, _)| n == f) else {
            return Err(format!("{f}: unknown standard format"));
        };
        b = Bpb {
            bps: v[0],
            spc: v[1],
            res: v[2],
            nft: v[3],
            rde: v[4],
            bsec: v[5],
            mid: v[6],
            bspf: v[7],
            spt: v[8],
            hds: v[9],
            ..Bpb::default()
        };
    }
    if o.heads != 0 {
        b.hds = o.heads;
    }
    if o.sectors_per_track != 0 {
        b.spt = o.sectors_per_track;
    }
    if o.bytes_per_sector != 0 {
        b.bps = o.bytes_per_sector;
    }
    if o.size != 0 {
        b.bsec = o.size;
    }
    if let Some(h) = o.hidden {
        b.hid = h;
    }
    if o.floppy.is_none() {
        // A device here has no geometry of its own: the usual fictions.
        if b.bps == 0 {
            b.bps = 512;
        }
        if b.spt == 0 {
            b.spt = 63;
        }
        if b.hds == 0 {
            b.hds = 255;
        }
        if b.bsec == 0 {
            let n = dev_bytes / u64::from(b.bps.max(1));
            b.bsec = u32::try_from(n).map_err(|_| "file system too large".to_string())?;
        }
        if b.spc == 0 {
            b.spc = match b.bsec {
                0..=6000 => 1,
                6001..=0x2_0000 => 8,
                0x2_0001..=0x8_0000 => 16,
                0x8_0001..=0x20_0000 => 32,
                _ => 64,
            };
        }
    }
    if let Some(l) = &o.label {
        if !ok_label(l) {
            return Err(format!("{l}: bad volume label"));
        }
    }
    match fat {
        0 => {
            if o.floppy.is_some() {
                fat = 12;
            } else if o.directory_entries == 0 && (o.info_sector != 0 || o.backup_sector != 0) {
                fat = 32;
            }
        }
        12 | 16 => {
            if o.info_sector != 0 {
                return Err(format!("Cannot specify info sector with FAT{fat}"));
            }
            if o.backup_sector != 0 {
                return Err(format!("Cannot specify backup sector with FAT{fat}"));
            }
        }
        32 => {
            if o.directory_entries != 0 {
                return Err("Cannot specify directory entries with FAT32".into());
            }
        }
        _ => return Err(format!("{fat}: bad FAT type")),
    }
    if !b.bps.is_power_of_two() {
        return Err(format!("bytes/sector ({}) is not a power of 2", b.bps));
    }
    if b.bps < MINBPS {
        return Err(format!(
            "bytes/sector ({}) is too small; minimum is {MINBPS}",
            b.bps
        ));
    }
    if o.floppy.is_some() && fat == 32 {
        b.rde = 0;
    }
    if o.block_size != 0 {
        if !o.block_size.is_power_of_two() {
            return Err(format!("block size ({}) is not a power of 2", o.block_size));
        }
        if o.block_size < b.bps {
            return Err(format!(
                "block size ({}) is too small; minimum is {}",
                o.block_size, b.bps
            ));
        }
        if o.block_size > b.bps * MAXSPC {
            return Err(format!(
                "block size ({}) is too large; maximum is {}",
                o.block_size,
                b.bps * MAXSPC
            ));
        }
        b.spc = o.block_size / b.bps;
    }
    if o.sectors_per_cluster != 0 {
        if !o.sectors_per_cluster.is_power_of_two() || o.sectors_per_cluster > MAXSPC {
            return Err(format!(
                "sectors/cluster ({}) is not a power of 2",
                o.sectors_per_cluster
            ));
        }
        b.spc = o.sectors_per_cluster;
    }
    if o.reserved != 0 {
        b.res = o.reserved;
    }
    if o.nfats != 0 {
        if o.nfats > MAXNFT {
            return Err(format!(
                "number of FATs ({}) is too large; maximum is {MAXNFT}",
                o.nfats
            ));
        }
        b.nft = o.nfats;
    }
    if o.directory_entries != 0 {
        b.rde = o.directory_entries;
    }
    if let Some(m) = o.media {
        if !(0xf0..=0xff).contains(&m) {
            return Err(format!("illegal media descriptor ({m:#x})"));
        }
        b.mid = m;
    }
    if o.sectors_per_fat != 0 {
        b.bspf = o.sectors_per_fat;
    }
    if o.info_sector != 0 {
        b.infs = o.info_sector;
    }
    if o.backup_sector != 0 {
        b.bkbs = o.backup_sector;
    }
    let bss = 1u64;
    if b.nft == 0 {
        b.nft = 2;
    }
    let (bps, nft) = (u64::from(b.bps), u64::from(b.nft));
    let res0 = if b.res != 0 { u64::from(b.res) } else { bss };
    if fat == 0 {
        let spc = u64::from(b.spc);
        let lim12 = res0
            + howmany(
                (u64::from(RESFTE)
                    + if spc != 0 {
                        u64::from(MINCLS16)
                    } else {
                        u64::from(MAXCLS12) + 1
                    })
                    * if spc != 0 { 4 } else { 3 },
                bps * 2,
            ) * nft
            + howmany(u64::from(if b.rde != 0 { b.rde } else { DEFRDE }), bps / 32)
            + if spc != 0 {
                u64::from(MINCLS16)
            } else {
                u64::from(MAXCLS12) + 1
            } * if spc != 0 {
                spc
            } else {
                howmany(u64::from(DEFBLK), bps)
            };
        let lim16 = res0
            + howmany((u64::from(RESFTE) + u64::from(MAXCLS16)) * 2, bps) * nft
            + howmany(u64::from(DEFRDE), bps / 32)
            + (u64::from(MAXCLS16) + 1) * if spc != 0 { spc } else { howmany(8192, bps) };
        fat = if u64::from(b.bsec) < lim12 {
            12
        } else if b.rde != 0 || u64::from(b.bsec) < lim16 {
            16
        } else {
            32
        };
    }
    let mut x = bss as u32;
    if fat == 32 {
        if b.infs == 0 {
            if x == MAXU16 || x == b.bkbs {
                return Err("no room for info sector".into());
            }
            b.infs = x;
        }
        if b.infs != MAXU16 && x <= b.infs {
            x = b.infs + 1;
        }
        if b.bkbs == 0 {
            if x == MAXU16 {
                return Err("no room for backup sector".into());
            }
            b.bkbs = x;
        } else if b.bkbs != MAXU16 && b.bkbs == b.infs {
            return Err("backup sector would overwrite info sector".into());
        }
        if b.bkbs != MAXU16 && x <= b.bkbs {
            x = b.bkbs + 1;
        }
    }
    if b.res == 0 {
        b.res = if fat == 32 {
            x.max((16384 / b.bps).max(4))
        } else {
            x
        };
    } else if b.res < x {
        return Err(format!(
            "too few reserved sectors (need {x} have {})",
            b.res
        ));
    }
    if fat != 32 && b.rde == 0 {
        b.rde = DEFRDE;
    }
    let rds = howmany(u64::from(b.rde), bps / 32) as u32;
    let per = u64::from(fat) / 4;
    if b.spc == 0 {
        b.spc = howmany(u64::from(if fat == 16 { DEFBLK16 } else { DEFBLK }), bps) as u32;
        while b.spc < MAXSPC
            && u64::from(b.res)
                + howmany((u64::from(RESFTE) + u64::from(maxcls(fat))) * per, bps * 2) * nft
                + u64::from(rds)
                + (u64::from(maxcls(fat)) + 1) * u64::from(b.spc)
                <= u64::from(b.bsec)
        {
            b.spc <<= 1;
        }
    }
    if fat != 32 && b.bspf > MAXU16 {
        return Err(format!("too many sectors/FAT for FAT{fat}"));
    }
    let mut x1 = u64::from(b.res) + u64::from(rds);
    let xs = u64::from(if b.bspf != 0 { b.bspf } else { 1 });
    if x1 + xs * nft > u64::from(b.bsec) {
        return Err("meta data exceeds file system size".into());
    }
    x1 += xs * nft;
    let spc = u64::from(b.spc);
    let xcl = (u64::from(b.bsec) - x1) * bps * 2 / (spc * bps * 2 + per * nft);
    let x2 = howmany(
        (u64::from(RESFTE) + xcl.min(u64::from(maxcls(fat)))) * per,
        bps * 2,
    );
    if b.bspf == 0 {
        b.bspf = x2 as u32;
        x1 += (u64::from(b.bspf) - 1) * nft;
    }
    if x1 > u64::from(b.bsec) {
        return Err("meta data exceeds file system size".into());
    }
    let mut cls = (u64::from(b.bsec) - x1) / spc;
    let fit = (u64::from(b.bspf) * bps * 2 / per).saturating_sub(u64::from(RESFTE));
    cls = cls.min(fit);
    if u64::from(b.bspf) < x2 {
        return Err(format!(
            "warning: sectors/FAT limits file system to {cls} clusters"
        ));
    }
    if cls < u64::from(mincls(fat)) {
        return Err(format!(
            "{cls} clusters too few clusters for FAT{fat}, need {}",
            mincls(fat)
        ));
    }
    if cls > u64::from(maxcls(fat)) {
        let limit = x1 + (u64::from(maxcls(fat)) + 1) * spc - 1;
        return Err(format!(
            "warning: FAT type limits file system to {limit} sectors"
        ));
    }
    if b.mid == 0 {
        b.mid = if b.hid == 0 { 0xf0 } else { 0xf8 };
    }
    if fat == 32 {
        b.rdcl = RESFTE;
    }
    if u64::from(b.hid) + u64::from(b.bsec) <= u64::from(MAXU16) {
        b.sec = b.bsec;
        b.bsec = 0;
    }
    if fat != 32 {
        b.spf = b.bspf;
        b.bspf = 0;
    }
    Ok(Layout {
        bpb: b,
        fat_type: fat,
        clusters: cls as u32,
        rds,
    })
}

/// The code a boot sector runs when it is booted: it prints that this
/// is not a system disk and reboots after a key.
const BOOTCODE: &[u8] = &[
    0xfa, 0x31, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, 0xfb, 0x8e, 0xd8, 0xe8, 0x00, 0x00, 0x5e, 0x83,
    0xc6, 0x19, 0xbb, 0x07, 0x00, 0xfc, 0xac, 0x84, 0xc0, 0x74, 0x06, 0xb4, 0x0e, 0xcd, 0x10, 0xeb,
    0xf5, 0x30, 0xe4, 0xcd, 0x16, 0xcd, 0x19, 0x0d, 0x0a, b'N', b'o', b'n', b'-', b's', b'y', b's',
    b't', b'e', b'm', b' ', b'd', b'i', b's', b'k', 0x0d, 0x0a, b'P', b'r', b'e', b's', b's', b' ',
    b'a', b'n', b'y', b' ', b'k', b'e', b'y', b' ', b't', b'o', b' ', b'r', b'e', b'b', b'o', b'o',
    b't', 0x0d, 0x0a, 0,
];

fn put2(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 2].copy_from_slice(&(v as u16).to_le_bytes());
}

fn put4(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// The boot sector.
fn boot_sector(l: &Layout, o: &Options, volid: u32) -> Vec<u8> {
    let b = &l.bpb;
    let mut s = vec![0u8; b.bps as usize];
    put2(&mut s, 11, b.bps);
    s[13] = b.spc as u8;
    put2(&mut s, 14, b.res);
    s[16] = b.nft as u8;
    put2(&mut s, 17, b.rde);
    put2(&mut s, 19, b.sec);
    s[21] = b.mid as u8;
    put2(&mut s, 22, b.spf);
    put2(&mut s, 24, b.spt);
    put2(&mut s, 26, b.hds);
    put4(&mut s, 28, b.hid);
    put4(&mut s, 32, b.bsec);
    let mut x = 36;
    if l.fat_type == 32 {
        put4(&mut s, 36, b.bspf);
        put4(&mut s, 44, b.rdcl);
        put2(&mut s, 48, b.infs);
        put2(&mut s, 50, b.bkbs);
        x = 64;
    }
    s[x + 2] = 0x29;
    put4(&mut s, x + 3, volid);
    s[x + 7..x + 18].copy_from_slice(&label_bytes(o.label.as_deref().unwrap_or("NO NAME")));
    let mut ty = [b' '; 8];
    let name = format!("FAT{}", l.fat_type);
    ty[..name.len()].copy_from_slice(name.as_bytes());
    s[x + 18..x + 26].copy_from_slice(&ty);
    let code = x + 26;
    s[0] = 0xeb;
    s[1] = (code - 2) as u8;
    s[2] = 0x90;
    let mut oem = [b' '; 8];
    let o_name = o.oem.as_deref().unwrap_or("NetBSD");
    oem[..o_name.len()].copy_from_slice(o_name.as_bytes());
    s[3..11].copy_from_slice(&oem);
    s[code..code + BOOTCODE.len()].copy_from_slice(BOOTCODE);
    put2(&mut s, 510, 0xaa55);
    s
}

/// The metadata sectors from sector 0 to the end of the root directory
/// (the root's first cluster on FAT32).
pub fn image(l: &Layout, o: &Options, volid: u32, now: (u16, u16)) -> Vec<u8> {
    let b = &l.bpb;
    let bps = b.bps as usize;
    let spf = if b.spf != 0 { b.spf } else { b.bspf } as usize;
    let dir = b.res as usize + spf * b.nft as usize;
    let end = dir
        + if l.fat_type == 32 {
            b.spc as usize
        } else {
            l.rds as usize
        };
    let mut img = vec![0u8; end * bps];
    let boot = boot_sector(l, o, volid);
    img[..bps].copy_from_slice(&boot);
    if l.fat_type == 32 {
        let bk = b.bkbs as usize;
        if b.bkbs != MAXU16 && bk < end {
            img[bk * bps..(bk + 1) * bps].copy_from_slice(&boot);
        }
        for infs in [b.infs as usize, (b.bkbs + b.infs) as usize] {
            if b.infs == MAXU16 || infs >= end || (infs != b.infs as usize && b.bkbs == MAXU16) {
                continue;
            }
            let s = &mut img[infs * bps..(infs + 1) * bps];
            put4(s, 0, 0x4161_5252);
            put4(s, 484, 0x6141_7272);
            // The exact free count (all clusters but the root's).
            put4(s, 488, l.clusters - 1);
            put4(s, 492, b.rdcl);
            put2(s, 510, 0xaa55);
        }
    }
    for n in 0..b.nft as usize {
        let at = (b.res as usize + n * spf) * bps;
        img[at] = b.mid as u8;
        let bytes = l.fat_type as usize * if l.fat_type == 32 { 3 } else { 2 } / 8;
        for x in 1..bytes {
            img[at + x] = if l.fat_type == 32 && x % 4 == 3 {
                0x0f
            } else {
                0xff
            };
        }
    }
    if let Some(lab) = &o.label {
        let at = dir * bps;
        img[at..at + 11].copy_from_slice(&label_bytes(lab));
        img[at + 11] = 0o50;
        put2(&mut img, at + 22, u32::from(now.1));
        put2(&mut img, at + 24, u32::from(now.0));
    }
    img
}

fn number(s: &str) -> Option<u64> {
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    v.checked_mul(mult)
}

/// The local date and time in DOS form, and a volume ID from the clock.
fn clock() -> ((u16, u16), u32) {
    let now = super::clock::now();
    let usec = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_micros());
    let t = super::clock::Zone::local().localtime(now);
    let date =
        (((t.year - 1980).clamp(0, 127) as u16) << 9) | ((t.mon as u16 + 1) << 5) | t.mday as u16;
    let time = ((t.hour as u16) << 11) | ((t.min as u16) << 5) | (t.sec as u16 / 2);
    let high = (((t.mon + 1) << 8) | t.mday).wrapping_add((t.sec << 8) | (usec / 10));
    let low = (t.year as u32).wrapping_add((t.hour << 8) | t.min) & 0xffff;
    let id = (high << 16) | low;
    ((date, time), id)
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!(
        "usage: {prog} [ -options ] special [disktype]\n\
         where the options are:\n\
         \t-F FAT type (12, 16, or 32)\n\
         \t-I volume ID\n\
         \t-L volume label\n\
         \t-N don't create file system: just print out parameters\n\
         \t-O OEM string\n\
         \t-S bytes/sector\n\
         \t-a sectors/FAT\n\
         \t-b block size\n\
         \t-c sectors/cluster\n\
         \t-e root directory entries\n\
         \t-f standard format\n\
         \t-h drive heads\n\
         \t-i file system info sector\n\
         \t-k backup boot sector\n\
         \t-m media descriptor\n\
         \t-n number of FATs\n\
         \t-o hidden sectors\n\
         \t-r reserved sectors\n\
         \t-s file system size (sectors)\n\
         \t-u sectors/track\n"
    );
    let (opts, rest) =
        match parse_args(prog, args, "F:I:L:NO:S:a:b:c:e:f:h:i:k:m:n:o:r:s:u:", &text) {
            Ok(v) => v,
            Err(status) => return status,
        };
    let mut o = Options::default();
    for opt in opts {
        let (c, v) = match opt {
            Opt::Flag('N') => {
                o.no_create = true;
                continue;
            }
            Opt::Arg(c, v) => (c, v),
            _ => continue,
        };
        let n = || -> Result<u32, i32> {
            number(&v)
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(|| {
                    warnx(prog, format!("{v}: bad {}", what(c)));
                    1
                })
        };
        let r = match c {
            'F' => n().map(|x| o.fat_type = x),
            'I' => n().map(|x| o.volume_id = Some(x)),
            'L' => {
                o.label = Some(v.clone());
                Ok(())
            }
            'O' => {
                o.oem = Some(v.clone());
                Ok(())
            }
            'S' => n().map(|x| o.bytes_per_sector = x),
            'a' => n().map(|x| o.sectors_per_fat = x),
            'b' => n().map(|x| o.block_size = x),
            'c' => n().map(|x| o.sectors_per_cluster = x),
            'e' => n().map(|x| o.directory_entries = x),
            'f' => {
                o.floppy = Some(v.clone());
                Ok(())
            }
            'h' => n().map(|x| o.heads = x),
            'i' => n().map(|x| o.info_sector = x),
            'k' => n().map(|x| o.backup_sector = x),
            'm' => n().map(|x| o.media = Some(x)),
            'n' => n().map(|x| o.nfats = x),
            'o' => n().map(|x| o.hidden = Some(x)),
            'r' => n().map(|x| o.reserved = x),
            's' => n().map(|x| o.size = x),
            'u' => n().map(|x| o.sectors_per_track = x),
            _ => Ok(()),
        };
        if let Err(status) = r {
            return status;
        }
    }
    if rest.is_empty() || rest.len() > 2 {
        return usage(&text);
    }
    let special = &rest[0];
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    run(prog, &client, special, &o)
}

fn what(c: char) -> &'static str {
    match c {
        'F' => "FAT type",
        'I' => "volume ID",
        'S' => "bytes/sector",
        'a' => "sectors/FAT",
        'b' => "block size",
        'c' => "sectors/cluster",
        'e' => "root directory entries",
        'h' => "drive heads",
        'i' => "info sector",
        'k' => "backup sector",
        'm' => "media descriptor",
        'n' => "number of FATs",
        'o' => "hidden sectors",
        'r' => "reserved sectors",
        's' => "file system size",
        'u' => "sectors/track",
        _ => "value",
    }
}

fn run(prog: &str, client: &Client, special: &str, o: &Options) -> i32 {
    let path = special.as_bytes();
    let fd = match client.open(path, if o.no_create { O_RDONLY } else { O_RDWR }, 0) {
        Ok(fd) => fd,
        Err(e) => {
            warnx(prog, format!("{special}: {e}"));
            return 1;
        }
    };
    let mut size = [0u8; 8];
    let bytes = match client.ioctl(fd, DIOCGMEDIASIZE, &mut size) {
        Ok(_) => u64::from_le_bytes(size),
        Err(_) => client
            .fstat(fd)
            .map(|st| st.size.max(0) as u64)
            .unwrap_or(0),
    };
    let l = match layout(o, bytes) {
        Ok(l) => l,
        Err(m) => {
            warnx(prog, m);
            let _ = client.close(fd);
            return 1;
        }
    };
    let b = &l.bpb;
    let total = l.clusters * b.spc;
    println!(
        "{special}: {total} sector{} in {} FAT{} cluster{} ({} bytes/cluster)",
        if total == 1 { "" } else { "s" },
        l.clusters,
        l.fat_type,
        if l.clusters == 1 { "" } else { "s" },
        b.bps * b.spc
    );
    let mut line = format!("bps={} spc={} res={} nft={}", b.bps, b.spc, b.res, b.nft);
    if b.rde != 0 {
        line += &format!(" rde={}", b.rde);
    }
    if b.sec != 0 {
        line += &format!(" sec={}", b.sec);
    }
    line += &format!(" mid={:#x}", b.mid);
    if b.spf != 0 {
        line += &format!(" spf={}", b.spf);
    }
    line += &format!(" spt={} hds={} hid={}", b.spt, b.hds, b.hid);
    if b.bsec != 0 {
        line += &format!(" bsec={}", b.bsec);
    }
    if b.spf == 0 {
        line += &format!(
            " bspf={} rdcl={} infs={} bkbs={}",
            b.bspf, b.rdcl, b.infs, b.bkbs
        );
    }
    println!("{line}");
    if o.no_create {
        let _ = client.close(fd);
        return 0;
    }
    let (now, id) = clock();
    let img = image(&l, o, o.volume_id.unwrap_or(id), now);
    let mut off = 0usize;
    while off < img.len() {
        let n = (img.len() - off).min(64 << 10);
        match client.pwrite(fd, &img[off..off + n], off as i64) {
            Ok(w) if w == n => off += n,
            Ok(_) => {
                warnx(
                    prog,
                    format!("{special}: can't write sector {}", off / b.bps as usize),
                );
                return 1;
            }
            Err(e) => {
                warnx(prog, format!("{special}: {e}"));
                return 1;
            }
        }
    }
    let _ = client.fsync(fd);
    if client.close(fd).is_err() {
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(size_mib: u64, fat: u32, spc: u32) -> Layout {
        let o = Options {
            fat_type: fat,
            sectors_per_cluster: spc,
            ..Options::default()
        };
        layout(&o, size_mib << 20).unwrap()
    }

    #[test]
    fn default_types_and_clusters() {
        let l = lay(2, 0, 0);
        assert_eq!((l.fat_type, l.bpb.spc, l.bpb.rde), (12, 1, 512));
        let l = lay(8, 0, 0);
        assert_eq!((l.fat_type, l.bpb.spc), (12, 8));
        let l = lay(20, 0, 0);
        assert_eq!((l.fat_type, l.bpb.spc), (16, 8));
        let l = lay(600, 0, 0);
        assert_eq!((l.fat_type, l.bpb.spc), (16, 32));
        let l = lay(3 << 10, 0, 0);
        assert_eq!(
            (l.fat_type, l.bpb.spc, l.bpb.res, l.bpb.infs, l.bpb.bkbs),
            (32, 64, 32, 1, 2)
        );
        assert!(l.clusters >= 0xfff5);
        let l = lay(40, 32, 1);
        assert_eq!((l.fat_type, l.bpb.rdcl, l.bpb.rde), (32, 2, 0));
        let o = Options {
            fat_type: 32,
            ..Options::default()
        };
        assert!(layout(&o, 40 << 20)
            .unwrap_err()
            .contains("too few clusters"));
    }

    #[test]
    fn metadata_image() {
        let l = lay(20, 16, 0);
        let o = Options {
            label: Some("my disk".into()),
            ..Options::default()
        };
        let img = image(&l, &o, 0x1234_5678, (0x5a21, 0x7bcf));
        assert_eq!(&img[510..512], &[0x55, 0xaa]);
        assert_eq!(&img[3..11], b"NetBSD  ");
        assert_eq!(&img[54..62], b"FAT16   ");
        assert_eq!(&img[43..54], b"MY DISK    ");
        let fat1 = (l.bpb.res + l.bpb.spf) as usize * 512;
        assert_eq!(&img[fat1..fat1 + 4], &[0xf0, 0xff, 0xff, 0xff]);
        let root = (l.bpb.res + 2 * l.bpb.spf) as usize * 512;
        assert_eq!(img[root + 11], 0o50);
        assert_eq!(img.len(), root + l.rds as usize * 512);
        assert!(ok_label("NO NAME") && !ok_label("a.b") && !ok_label("twelve chars"));
        assert_eq!(number("0x10"), Some(16));
        assert_eq!(number("1k"), Some(1024));
    }
}

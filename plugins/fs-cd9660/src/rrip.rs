//! Rock Ridge (RRIP, IEEE P1282): POSIX attributes, names, symbolic links,
//! device numbers, times and relocated directories, read from the SUSP
//! fields of a directory record.
//!
//! A volume has Rock Ridge when the root's `.` record starts its system
//! use area with an `SP` field (or does so 15 bytes in, on CD-ROM XA
//! discs) and an `ER` field names the Rock Ridge extensions, as NetBSD
//! insists. `SP` gives the bytes every other record's area skips.
//!
//! The fields read: `PX` (mode, links, owner, group), `TF` (times), `PN`
//! (device numbers), `NM` (the name, in pieces), `SL` (a symbolic link's
//! target, in components), `CL`/`PL`/`RE` (deep directories moved
//! elsewhere: a `CL` placeholder names the moved directory, `PL` in its
//! `..` names the real parent, and `RE` marks the moved directory in its
//! new place, where it is not listed). The first `PX`, `TF`, `PN`, `CL`
//! and `PL` of a record count. Names longer than 255 bytes, or `NM`
//! pieces with flags NetBSD does not know, give the ISO 9660 name
//! instead; link targets longer than 1024 bytes, or broken `SL` fields,
//! make readlink fail with EINVAL.

use crate::disk::{Disk, Geometry};
use crate::num::{both32, u8_at};
use crate::record::Record;
use crate::susp::{walk, Field, Flow};
use crate::time;
use rump_plugin_api::abi::stat::{major, makedev, minor, Timespec};

/// The signature and check bytes of `SP`, with its length and version.
const SP: &[u8; 6] = b"SP\x07\x01\xbe\xef";
/// Where `SP` may start in the root's `.` system use area.
const SP_PLACES: [usize; 2] = [0, 15];
/// The longest name.
pub const NAME_MAX: usize = 255;
/// The longest symbolic link target (MAXPATHLEN).
pub const LINK_MAX: usize = 1024;
/// What `NM` and `SL` give for the host name.
const HOST: &[u8] = b"localhost";

/// NM and SL component flags.
const CONTINUE: u8 = 0x01;
const CURRENT: u8 = 0x02;
const PARENT: u8 = 0x04;
const ROOT: u8 = 0x08;
const VOLROOT: u8 = 0x10;
const HOSTNAME: u8 = 0x20;

/// TF flags.
const TF_CREATION: u8 = 0x01;
const TF_MODIFY: u8 = 0x02;
const TF_ACCESS: u8 = 0x04;
const TF_ATTRIBUTES: u8 = 0x08;
const TF_LONG_FORM: u8 = 0x80;

/// How a Rock Ridge volume lays out system use areas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RockRidge {
    /// Bytes every record's system use area starts with before its fields.
    pub skip: usize,
    /// The same for the root's `.` record.
    pub skip_root: usize,
    /// The root directory's extent, to recognise its `.` record.
    pub root_extent: u32,
}

/// `PX`: mode (with the type bits), links, owner and group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posix {
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
}

/// `TF`: the times NetBSD takes from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Times {
    pub birth: Option<Timespec>,
    pub mtime: Timespec,
    pub atime: Timespec,
    pub ctime: Timespec,
}

/// The name a record's fields give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// No usable `NM`: the ISO 9660 identifier stands.
    Iso,
    /// `NM` gave this name.
    Alternate(Vec<u8>),
    /// Not listed: `RE` (a moved directory in its new place) or an empty
    /// `NM`.
    Hidden,
}

/// Everything the fields of one record say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub posix: Option<Posix>,
    pub times: Option<Times>,
    pub rdev: Option<u64>,
    pub name: Name,
    /// `CL`: the block of the moved directory this placeholder stands for.
    pub child: Option<u32>,
    /// `PL`: the block of the real parent (in a moved directory's `..`).
    pub parent: Option<u32>,
    /// `SL`: the link target, or `Err` for broken or overlong fields.
    pub link: Option<Result<Vec<u8>, ()>>,
}

/// Whether the root directory's first block (its `.` record first)
/// announces Rock Ridge; how to read the volume's areas if so.
/// `root_extent` is the root's extent as the volume descriptor gives it.
pub fn detect(
    disk: &Disk,
    geo: &Geometry,
    first_block: &[u8],
    root_extent: u32,
) -> Option<RockRidge> {
    let Ok(crate::record::Slot::Record(dot)) = Record::at(first_block, 0) else {
        return None;
    };
    let su = dot.system_use();
    let skip_root = SP_PLACES
        .into_iter()
        .find(|&at| su.get(at..at + SP.len()) == Some(SP.as_slice()))?;
    let skip = usize::from(u8_at(su, skip_root + SP.len())?);
    let mut found = false;
    walk(disk, geo, &su[skip_root..], &mut |f| {
        if &f.sig == b"ER" && names_rock_ridge(f) {
            found = true;
            return Flow::Stop;
        }
        Flow::Go
    });
    found.then_some(RockRidge {
        skip,
        skip_root,
        root_extent,
    })
}

/// Whether an `ER` field is version 1 of one of the Rock Ridge
/// identifiers NetBSD accepts.
fn names_rock_ridge(f: &Field<'_>) -> bool {
    let (Some(&len_id), Some(&version)) = (f.data.first(), f.data.get(3)) else {
        return false;
    };
    let Some(id) = f.data.get(4..4 + usize::from(len_id)) else {
        return false;
    };
    version == 1 && matches!(id, b"IEEE_1282" | b"IEEE_P1282" | b"RRIP_1991A")
}

/// An `NM` name being put together.
enum NameBuild {
    Empty,
    Partial(Vec<u8>),
    Done(Vec<u8>),
    Failed,
}

/// An `SL` target being put together, NetBSD's way: components are
/// joined with `/` unless the one before continues.
struct LinkBuild {
    out: Vec<u8>,
    joined: bool,
    rooted: bool,
    state: Option<Result<(), ()>>,
}

impl LinkBuild {
    fn new() -> LinkBuild {
        LinkBuild {
            out: Vec::new(),
            joined: true,
            rooted: false,
            state: None,
        }
    }

    /// Adds the components of one `SL` field.
    fn add(&mut self, data: &[u8], volroot: &[u8]) {
        if self.state.is_some() {
            return;
        }
        let Some((&flags, mut comps)) = data.split_first() else {
            self.state = Some(Err(()));
            return;
        };
        while !comps.is_empty() {
            let (Some(&cflag), Some(&clen)) = (comps.first(), comps.get(1)) else {
                self.state = Some(Err(()));
                return;
            };
            let Some(text) = comps.get(2..2 + usize::from(clen)) else {
                self.state = Some(Err(()));
                return;
            };
            comps = &comps[2 + usize::from(clen)..];
            if !self.joined && self.out.len() < LINK_MAX {
                self.out.push(b'/');
            }
            self.joined = false;
            let piece: &[u8] = match cflag {
                CURRENT => b".",
                PARENT => b"..",
                ROOT => {
                    self.out.clear();
                    self.rooted = true;
                    b""
                }
                VOLROOT => {
                    self.out.clear();
                    volroot
                }
                HOSTNAME => HOST,
                CONTINUE => {
                    self.joined = true;
                    text
                }
                0 => text,
                _ => {
                    self.state = Some(Err(()));
                    return;
                }
            };
            if self.out.len() + piece.len() > LINK_MAX {
                self.state = Some(Err(()));
                return;
            }
            self.out.extend_from_slice(piece);
        }
        if flags == 0 {
            self.state = Some(Ok(()));
        }
    }

    fn finish(self) -> Result<Vec<u8>, ()> {
        match self.state {
            Some(Ok(())) if self.out.is_empty() && self.rooted => Ok(b"/".to_vec()),
            Some(Ok(())) => Ok(self.out),
            _ => Err(()),
        }
    }
}

/// The system use area of `rec` past the bytes `SP` says to skip.
pub fn area<'a>(rr: &RockRidge, rec: &Record<'a>) -> &'a [u8] {
    let skip = if rec.dot() == Some(0) && rec.extent() == rr.root_extent {
        rr.skip_root
    } else {
        rr.skip
    };
    rec.system_use().get(skip..).unwrap_or(&[])
}

/// Reads the fields of `rec`; `volroot` is what an `SL` component for
/// the volume root becomes (the mount point).
pub fn read(disk: &Disk, geo: &Geometry, rr: &RockRidge, rec: &Record<'_>, volroot: &[u8]) -> Info {
    let mut info = Info {
        posix: None,
        times: None,
        rdev: None,
        name: Name::Iso,
        child: None,
        parent: None,
        link: None,
    };
    let mut name = NameBuild::Empty;
    let mut link: Option<LinkBuild> = None;
    let mut moved = false;
    let dot = rec.dot().is_some();
    walk(disk, geo, area(rr, rec), &mut |f| {
        match &f.sig {
            b"PX" if info.posix.is_none() => info.posix = posix(f.data),
            b"TF" if info.times.is_none() => info.times = Some(times(f.data)),
            b"PN" if info.rdev.is_none() => info.rdev = device(f.data),
            b"CL" if info.child.is_none() => info.child = both32(f.data, 0),
            b"PL" if info.parent.is_none() => info.parent = both32(f.data, 0),
            b"RE" => moved = true,
            b"NM" if !dot => {
                name = add_name(std::mem::replace(&mut name, NameBuild::Failed), f.data)
            }
            b"SL" => link.get_or_insert_with(LinkBuild::new).add(f.data, volroot),
            _ => {}
        }
        Flow::Go
    });
    info.name = match name {
        _ if moved => Name::Hidden,
        NameBuild::Done(n) if n.is_empty() => Name::Hidden,
        NameBuild::Done(n) => Name::Alternate(n),
        NameBuild::Empty | NameBuild::Partial(_) | NameBuild::Failed => Name::Iso,
    };
    info.link = link.map(LinkBuild::finish);
    info
}

/// Adds one `NM` field to a name; later fields after a complete name
/// change nothing.
fn add_name(name: NameBuild, data: &[u8]) -> NameBuild {
    let mut sofar = match name {
        NameBuild::Empty => Vec::new(),
        NameBuild::Partial(v) => v,
        done => return done,
    };
    let Some((&flags, text)) = data.split_first() else {
        return NameBuild::Failed;
    };
    let piece: &[u8] = match flags {
        CURRENT => b".",
        PARENT => b"..",
        HOSTNAME => HOST,
        0 | CONTINUE => text,
        _ => return NameBuild::Failed,
    };
    if sofar.len() + piece.len() > NAME_MAX {
        return NameBuild::Failed;
    }
    sofar.extend_from_slice(piece);
    if flags == CONTINUE {
        NameBuild::Partial(sofar)
    } else {
        NameBuild::Done(sofar)
    }
}

fn posix(d: &[u8]) -> Option<Posix> {
    Some(Posix {
        mode: both32(d, 0)?,
        nlink: both32(d, 8)?,
        uid: both32(d, 16)?,
        gid: both32(d, 24)?,
    })
}

/// The times of a `TF` field, as NetBSD takes them: no modification
/// time reads as the epoch, and a missing access or attribute change
/// time is the modification time. Stamps past the field's end read as
/// the epoch.
fn times(d: &[u8]) -> Times {
    let flags = d.first().copied().unwrap_or(0);
    let long = flags & TF_LONG_FORM != 0;
    let step = if long { time::LONG } else { time::SHORT };
    let mut at = 1usize;
    let mut take = |bit: u8| -> Option<Timespec> {
        if flags & bit == 0 {
            return None;
        }
        let t = time::read(d, at, long).unwrap_or_default();
        at += step;
        Some(t)
    };
    let birth = take(TF_CREATION);
    let mtime = take(TF_MODIFY).unwrap_or_default();
    let atime = take(TF_ACCESS).unwrap_or(mtime);
    let ctime = take(TF_ATTRIBUTES).unwrap_or(mtime);
    Times {
        birth,
        mtime,
        atime,
        ctime,
    }
}

/// `PN`: NetBSD's device number from the high and low words.
fn device(d: &[u8]) -> Option<u64> {
    let high = both32(d, 0)?;
    let low = u64::from(both32(d, 8)?);
    Some(if high == 0 {
        makedev(major(low), minor(low))
    } else {
        makedev(high, minor(low))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testing::record;
    use crate::susp::testing::{both32 as n, ce, field};

    fn disk(blocks: usize) -> (Disk, Geometry) {
        (
            Disk::new(Box::new(vec![0u8; blocks * 2048])),
            Geometry {
                shift: 11,
                blocks: blocks as u64,
            },
        )
    }

    fn er(id: &[u8]) -> Vec<u8> {
        let mut d = vec![id.len() as u8, 0, 0, 1];
        d.extend_from_slice(id);
        field(b"ER", &d)
    }

    fn sp(skip: u8) -> Vec<u8> {
        field(b"SP", &[0xbe, 0xef, skip])
    }

    const RR: RockRidge = RockRidge {
        skip: 0,
        skip_root: 0,
        root_extent: 20,
    };

    #[test]
    fn detection_wants_sp_and_er() {
        let (d, g) = disk(4);
        let block = |su: &[u8]| {
            let mut b = record(b"\0", 20, 2048, 2, su);
            b.resize(2048, 0);
            b
        };
        let rr = detect(&d, &g, &block(&[sp(0), er(b"RRIP_1991A")].concat()), 20).unwrap();
        assert_eq!(rr, RR);
        let xa = [vec![0u8; 15], sp(14), er(b"IEEE_P1282")].concat();
        let rr = detect(&d, &g, &block(&xa), 20).unwrap();
        assert_eq!((rr.skip_root, rr.skip), (15, 14));
        assert!(
            detect(&d, &g, &block(&er(b"RRIP_1991A")), 20).is_none(),
            "no SP"
        );
        assert!(detect(&d, &g, &block(&sp(0)), 20).is_none(), "no ER");
        assert!(detect(&d, &g, &block(&[sp(0), er(b"SOMETHING_ELSE")].concat()), 20).is_none());
        assert!(detect(&d, &g, &[0u8; 2048], 20).is_none());
    }

    /// The fields of a record whose system use area is `su`; a long one
    /// goes to a continuation area.
    fn info(su: &[u8]) -> Info {
        let mut img = vec![0u8; 4 * 2048];
        let r = if su.len() > 200 {
            img[2048..2048 + su.len()].copy_from_slice(su);
            record(b"FILE.TXT;1", 30, 5, 0, &ce(1, 0, su.len() as u32))
        } else {
            record(b"FILE.TXT;1", 30, 5, 0, su)
        };
        let g = Geometry {
            shift: 11,
            blocks: 4,
        };
        read(
            &Disk::new(Box::new(img)),
            &g,
            &RR,
            &Record::new(&r).unwrap(),
            b"/mnt",
        )
    }

    fn px(mode: u32, nlink: u32, uid: u32, gid: u32) -> Vec<u8> {
        field(b"PX", &[n(mode), n(nlink), n(uid), n(gid)].concat())
    }

    #[test]
    fn attributes_times_devices() {
        let tf = field(
            b"TF",
            &[
                &[TF_MODIFY | TF_ACCESS][..],
                &[101, 2, 3, 4, 5, 6, 0],
                &[101, 2, 3, 4, 5, 7, 0],
            ]
            .concat(),
        );
        let i = info(&[px(0o100644, 2, 1000, 100), tf].concat());
        assert_eq!(
            i.posix,
            Some(Posix {
                mode: 0o100644,
                nlink: 2,
                uid: 1000,
                gid: 100
            })
        );
        let t = i.times.unwrap();
        assert_eq!(
            (t.mtime.sec, t.atime.sec, t.ctime.sec),
            (981_173_106, 981_173_107, 981_173_106)
        );
        assert_eq!(t.birth, None);
        let long = field(
            b"TF",
            &[&[TF_LONG_FORM | TF_ATTRIBUTES][..], b"2001020304050600\0"].concat(),
        );
        let t = info(&long).times.unwrap();
        assert_eq!((t.mtime.sec, t.ctime.sec), (0, 981_173_106));
        let i = info(&field(b"PN", &[n(0), n(0x0501)].concat()));
        assert_eq!(i.rdev, Some(makedev(5, 1)));
        let i = info(&field(b"PN", &[n(7), n(3)].concat()));
        assert_eq!(i.rdev, Some(makedev(7, 3)));
        assert_eq!(info(&field(b"PX", &[1, 2, 3])).posix, None, "too short");
    }

    #[test]
    fn names_in_pieces() {
        let long_piece = vec![b'x'; 200];
        let nm = |flags: u8, t: &[u8]| field(b"NM", &[&[flags][..], t].concat());
        assert_eq!(
            info(&nm(0, b"hello")).name,
            Name::Alternate(b"hello".to_vec())
        );
        assert_eq!(
            info(&[nm(CONTINUE, &long_piece), nm(0, b"tail")].concat()).name,
            Name::Alternate([long_piece.clone(), b"tail".to_vec()].concat())
        );
        assert_eq!(
            info(&[nm(CONTINUE, &long_piece), nm(0, &long_piece)].concat()).name,
            Name::Iso,
            "longer than 255"
        );
        assert_eq!(info(&nm(0x40, b"x")).name, Name::Iso, "unknown flags");
        assert_eq!(
            info(&nm(CONTINUE, b"half")).name,
            Name::Iso,
            "never finished"
        );
        assert_eq!(info(&nm(0, b"")).name, Name::Hidden);
        assert_eq!(
            info(&[nm(0, b"a"), nm(0, b"b")].concat()).name,
            Name::Alternate(b"a".to_vec())
        );
        assert_eq!(
            info(&[nm(0, b"d"), field(b"RE", &[])].concat()).name,
            Name::Hidden
        );
        let i = info(&[nm(0, b"deep"), field(b"CL", &n(77))].concat());
        assert_eq!(
            (i.name, i.child),
            (Name::Alternate(b"deep".to_vec()), Some(77))
        );
    }

    fn sl(flags: u8, comps: &[(u8, &[u8])]) -> Vec<u8> {
        let mut d = vec![flags];
        for (f, t) in comps {
            d.push(*f);
            d.push(t.len() as u8);
            d.extend_from_slice(t);
        }
        field(b"SL", &d)
    }

    #[test]
    fn link_targets() {
        let target = |su: Vec<u8>| info(&su).link.unwrap();
        assert_eq!(
            target(sl(0, &[(0, b"hello.txt")])),
            Ok(b"hello.txt".to_vec())
        );
        assert_eq!(
            target(sl(
                0,
                &[(ROOT, b""), (0, b"usr"), (PARENT, b""), (0, b"lib")]
            )),
            Ok(b"/usr/../lib".to_vec())
        );
        assert_eq!(target(sl(0, &[(ROOT, b"")])), Ok(b"/".to_vec()));
        assert_eq!(
            target(sl(0, &[(CURRENT, b""), (0, b"x")])),
            Ok(b"./x".to_vec())
        );
        assert_eq!(
            target(sl(0, &[(VOLROOT, b""), (0, b"x")])),
            Ok(b"/mnt/x".to_vec())
        );
        // a component split over two fields, and two fields of whole ones
        assert_eq!(
            target(
                [
                    sl(1, &[(0, b"a"), (CONTINUE, b"lo")]),
                    sl(0, &[(0, b"ng"), (0, b"b")])
                ]
                .concat()
            ),
            Ok(b"a/long/b".to_vec())
        );
        assert_eq!(target(sl(1, &[(0, b"a")])), Err(()), "never finished");
        assert_eq!(target(sl(0, &[(0x40, b"a")])), Err(()), "unknown flags");
        assert_eq!(
            target(field(b"SL", &[0, 0, 9, b'a'])),
            Err(()),
            "component past the field"
        );
        let big = vec![b'x'; 240];
        let part = |more: u8| sl(more, &[(0, big.as_slice())]);
        let four = [part(1), part(1), part(1), part(0)].concat();
        assert_eq!(target(four).map(|t| t.len()), Ok(963));
        let five = [part(1), part(1), part(1), part(1), part(0)].concat();
        assert_eq!(target(five), Err(()), "longer than MAXPATHLEN");
        assert_eq!(info(&px(0o120777, 1, 0, 0)).link, None);
    }

    #[test]
    fn continuation_areas_carry_fields() {
        let mut img = vec![0u8; 4 * 2048];
        let cont = field(b"NM", b"\0continued");
        img[3 * 2048..3 * 2048 + cont.len()].copy_from_slice(&cont);
        let d = Disk::new(Box::new(img));
        let g = Geometry {
            shift: 11,
            blocks: 4,
        };
        let r = record(b"F;1", 30, 5, 0, &ce(3, 0, cont.len() as u32));
        let i = read(&d, &g, &RR, &Record::new(&r).unwrap(), b"");
        assert_eq!(i.name, Name::Alternate(b"continued".to_vec()));
    }
}

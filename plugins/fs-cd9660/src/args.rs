//! The mount argument block, `struct iso_args`, and what its ISOFSMNT_*
//! flags decide together with what the volume offers, by NetBSD's rules:
//!
//! - Rock Ridge is used unless `norrip`, when the volume has it; then
//!   `gens` is dropped. A volume without it counts as `norrip`.
//! - Without Rock Ridge, `gens` keeps `;N` versions and lists every
//!   version; otherwise versions are dropped and a file listed once, and
//!   names are lower-cased unless `nocasetrans`.
//! - Joliet names are used only without Rock Ridge, unless `nojoliet`,
//!   when the first supplementary volume descriptor is a Joliet one.
//! - MNT_GETARGS reports `norrip`, `gens`, `extatt`, `nojoliet` and
//!   `rrcaseins` as they ended up, and `nocasetrans` when it was used.

use crate::names::Style;
use rump_plugin_api::abi::mount::{
    IsoArgs, ISOFSMNT_EXTATT, ISOFSMNT_GENS, ISOFSMNT_NOCASETRANS, ISOFSMNT_NOJOLIET,
    ISOFSMNT_NORRIP, ISOFSMNT_RRCASEINS,
};
use rump_plugin_api::{Errno, KResult};

/// The argument block: EINVAL if shorter than `struct iso_args`.
pub fn parse(data: &[u8]) -> KResult<IsoArgs> {
    if data.len() < IsoArgs::SIZE {
        return Err(Errno::EINVAL);
    }
    Ok(IsoArgs::decode(data))
}

/// The MNT_GETARGS block: no device, the flags in force.
pub fn getargs(flags: i32) -> Vec<u8> {
    IsoArgs { fspec: 0, flags }.encode().to_vec()
}

/// How a mount reads names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    RockRidge,
    /// Plain ISO 9660 or Joliet names in this style.
    Iso {
        style: Style,
        merge_versions: bool,
    },
}

/// What a mount ends up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub reading: Reading,
    /// Read the tree of the Joliet descriptor.
    pub joliet: bool,
    /// The flags MNT_GETARGS reports.
    pub flags: i32,
}

/// Decides from the requested `flags`, whether the volume has Rock Ridge
/// and the level of its Joliet descriptor (0: none).
pub fn decide(flags: i32, has_rock_ridge: bool, joliet_level: u8) -> Decision {
    let mut f = flags;
    if f & ISOFSMNT_NORRIP == 0 {
        if has_rock_ridge {
            f &= !ISOFSMNT_GENS;
        } else {
            f |= ISOFSMNT_NORRIP;
        }
    }
    let mut kept = f
        & (ISOFSMNT_NORRIP
            | ISOFSMNT_GENS
            | ISOFSMNT_EXTATT
            | ISOFSMNT_NOJOLIET
            | ISOFSMNT_RRCASEINS);
    let joliet = f & ISOFSMNT_NORRIP != 0 && f & ISOFSMNT_NOJOLIET == 0 && joliet_level != 0;
    let level = if joliet { joliet_level } else { 0 };
    let reading = if kept & ISOFSMNT_GENS != 0 {
        Reading::Iso {
            style: Style {
                joliet: level,
                keep_version: true,
                lower_case: true,
            },
            merge_versions: false,
        }
    } else if kept & ISOFSMNT_NORRIP != 0 {
        if f & ISOFSMNT_NOCASETRANS != 0 {
            kept |= ISOFSMNT_NOCASETRANS;
        }
        Reading::Iso {
            style: Style {
                joliet: level,
                keep_version: false,
                lower_case: kept & ISOFSMNT_NOCASETRANS == 0,
            },
            merge_versions: true,
        }
    } else {
        Reading::RockRidge
    };
    Decision {
        reading,
        joliet,
        flags: kept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(joliet: u8, keep_version: bool, lower_case: bool) -> Reading {
        Reading::Iso {
            style: Style {
                joliet,
                keep_version,
                lower_case,
            },
            merge_versions: !keep_version,
        }
    }

    #[test]
    fn netbsd_precedence() {
        let d = decide(0, true, 3);
        assert_eq!(
            (d.reading, d.joliet, d.flags),
            (Reading::RockRidge, false, 0)
        );
        let d = decide(ISOFSMNT_GENS | ISOFSMNT_NOCASETRANS, true, 0);
        assert_eq!(
            (d.reading, d.flags),
            (Reading::RockRidge, 0),
            "gens dropped"
        );
        let d = decide(0, false, 3);
        assert_eq!(
            (d.reading, d.joliet, d.flags),
            (iso(3, false, true), true, ISOFSMNT_NORRIP)
        );
        let d = decide(ISOFSMNT_NORRIP, true, 1);
        assert_eq!((d.reading, d.joliet), (iso(1, false, true), true));
        let d = decide(ISOFSMNT_NOJOLIET, false, 3);
        assert_eq!(d.reading, iso(0, false, true));
        assert_eq!(d.flags, ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET);
        let d = decide(ISOFSMNT_NOCASETRANS, false, 0);
        assert_eq!(
            (d.reading, d.flags),
            (iso(0, false, false), ISOFSMNT_NORRIP | ISOFSMNT_NOCASETRANS)
        );
        let d = decide(ISOFSMNT_GENS | ISOFSMNT_NOCASETRANS, false, 2);
        assert_eq!(
            (d.reading, d.flags),
            (iso(2, true, true), ISOFSMNT_NORRIP | ISOFSMNT_GENS)
        );
        let d = decide(ISOFSMNT_RRCASEINS | ISOFSMNT_EXTATT | 0x100, true, 0);
        assert_eq!(d.flags, ISOFSMNT_RRCASEINS | ISOFSMNT_EXTATT);
    }

    #[test]
    fn blocks() {
        assert_eq!(parse(&[0; 143]), Err(Errno::EINVAL));
        let b = IsoArgs { fspec: 5, flags: 9 }.encode();
        assert_eq!(parse(&b).unwrap(), IsoArgs { fspec: 5, flags: 9 });
        let g = getargs(ISOFSMNT_NORRIP);
        assert_eq!(IsoArgs::decode(&g), IsoArgs { fspec: 0, flags: 1 });
    }
}

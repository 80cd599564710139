//! Recorded dates: the 7-byte form of directory records and Rock Ridge
//! `TF` entries (ECMA-119 9.1.5) and the 17-byte digit form of volume
//! descriptors, extended attributes and long `TF` entries (8.4.26.1).
//!
//! The conversion is NetBSD's: years before 1970 read as the epoch, the
//! offset from GMT (in 15-minute steps) is applied only within -48..=52,
//! and fields are not range-checked (an impossible date gives some time,
//! never an error). Two differences: the offset is read as the signed
//! byte the standard defines, so zones west of Greenwich are applied too;
//! and the 17-byte form's year is not cut to a byte first, so an unset
//! date (all zeros) reads as the epoch, not as 2048.

use rump_plugin_api::abi::stat::Timespec;

/// The length of the short form.
pub const SHORT: usize = 7;
/// The length of the digit form.
pub const LONG: usize = 17;

/// Seconds since the epoch of a 7-byte date; `None` for a year before
/// 1970 (which reads as the epoch).
pub fn short(d: &[u8; SHORT]) -> Option<Timespec> {
    let f = |i: usize| i64::from(d[i]);
    seconds(f(0) + 1900, f(1), f(2), f(3), f(4), f(5), d[6] as i8)
}

/// Seconds since the epoch of a 17-byte date; `None` before 1970 (an
/// unset date, all zeros, among them).
pub fn long(d: &[u8; LONG]) -> Option<Timespec> {
    let f = |from: usize, to: usize| digits(&d[from..to]);
    seconds(
        f(0, 4),
        f(4, 6),
        f(6, 8),
        f(8, 10),
        f(10, 12),
        f(12, 14),
        d[16] as i8,
    )
}

/// The value of ASCII digits (other bytes count as their distance from
/// '0', as NetBSD computes it).
fn digits(b: &[u8]) -> i64 {
    b.iter()
        .fold(0, |v, &c| v * 10 + i64::from(c) - i64::from(b'0'))
}

/// The time of a broken-down date with an offset from GMT in 15-minute
/// steps.
fn seconds(
    y: i64,
    m: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    tz: i8,
) -> Option<Timespec> {
    if y < 1970 {
        return None;
    }
    // Days since 1970-01-01 for the proleptic Gregorian calendar, in a
    // form that stays defined for any month and day values.
    let days =
        367 * (y - 1960) - 7 * (y + (m + 9) / 12) / 4 - 3 * ((y + (m + 9) / 12 - 1) / 100 + 1) / 4
            + 275 * m / 9
            + day
            - 239;
    let mut secs = ((days * 24 + hour) * 60 + minute) * 60 + second;
    let tz = i64::from(tz);
    if (-48..=52).contains(&tz) {
        secs -= tz * 15 * 60;
    }
    Some(Timespec { sec: secs, nsec: 0 })
}

/// A date of either form from `b` at `at`, if it is there; the epoch for
/// one before 1970.
pub fn read(b: &[u8], at: usize, long_form: bool) -> Option<Timespec> {
    let len = if long_form { LONG } else { SHORT };
    let s = b.get(at..at.checked_add(len)?)?;
    let t = if long_form {
        long(s.try_into().ok()?)
    } else {
        short(s.try_into().ok()?)
    };
    Some(t.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(sec: i64) -> Option<Timespec> {
        Some(Timespec { sec, nsec: 0 })
    }

    #[test]
    fn short_dates() {
        // 2001-02-03 04:05:06 UTC
        assert_eq!(short(&[101, 2, 3, 4, 5, 6, 0]), at(981_173_106));
        // the same moment written at UTC+1 and at UTC-5
        assert_eq!(short(&[101, 2, 3, 5, 5, 6, 4]), at(981_173_106));
        assert_eq!(
            short(&[101, 2, 2, 23, 5, 6, (-20i8) as u8]),
            at(981_173_106)
        );
        assert_eq!(short(&[70, 1, 1, 0, 0, 0, 0]), at(0));
        assert_eq!(short(&[69, 12, 31, 23, 59, 59, 0]), None);
        // 2024-02-29 and 2100-03-01: leap rules
        assert_eq!(short(&[124, 2, 29, 0, 0, 0, 0]), at(1_709_164_800));
        assert_eq!(short(&[200, 3, 1, 0, 0, 0, 0]), at(4_107_542_400));
        // an offset out of range is ignored; nonsense fields give a time
        assert_eq!(short(&[101, 2, 3, 4, 5, 6, 100]), at(981_173_106));
        assert!(short(&[255, 255, 255, 255, 255, 255, 255]).is_some());
    }

    #[test]
    fn long_dates() {
        assert_eq!(long(b"2001020304050600\0"), at(981_173_106));
        assert_eq!(long(b"2001020305050600\x04"), at(981_173_106));
        assert_eq!(long(b"0000000000000000\0"), None);
        // digits that are not digits still give a time, never a panic
        let _ = long(&[0xff; 17]);
        let _ = long(&[0; 17]);
        assert_eq!(read(b"xx2001020304050600\0", 2, true), at(981_173_106));
        assert_eq!(read(&[101, 2, 3, 4, 5, 6], 0, false), None, "short");
        assert_eq!(read(&[60, 2, 3, 4, 5, 6, 0], 0, false), at(0));
    }
}

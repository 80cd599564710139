//! DOS dates and times: local time in 2-second steps (creation times
//! in 10 ms steps), 1980 to 2107, converted to and from UTC with the
//! mount's `gmtoff`.

use rump_plugin_api::abi::stat::Timespec;

/// 1980-01-01 00:00:00, in seconds since 1970.
const DOS_EPOCH: i64 = 315_532_800;
/// 2107-12-31 23:59:58, the last DOS time.
const DOS_LAST: i64 = 4_354_819_198;

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A DOS date, time and hundredths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DosTime {
    pub date: u16,
    pub time: u16,
    /// 0..199: hundredths of a second past the 2-second step.
    pub hundredths: u8,
}

/// The DOS form of UTC time `t` on a volume `gmtoff` seconds east of UTC.
pub fn to_dos(t: Timespec, gmtoff: i32) -> DosTime {
    let local = t.sec.saturating_add(i64::from(gmtoff));
    if local < DOS_EPOCH {
        return DosTime {
            date: (1 << 5) | 1,
            time: 0,
            hundredths: 0,
        };
    }
    let (local, nsec) = if local > DOS_LAST {
        (DOS_LAST, 0)
    } else {
        (local, t.nsec.clamp(0, 999_999_999))
    };
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let date = (((y - 1980) as u16) << 9) | ((m as u16) << 5) | d as u16;
    let time = (((secs / 3600) as u16) << 11)
        | ((((secs / 60) % 60) as u16) << 5)
        | ((secs % 60) / 2) as u16;
    let hundredths = ((secs % 2) * 100 + nsec / 10_000_000) as u8;
    DosTime {
        date,
        time,
        hundredths,
    }
}

/// The UTC time of a DOS date, time and hundredths. Out-of-range fields
/// (a month 0, say, on a damaged volume) are clamped, never trusted.
pub fn from_dos(dt: DosTime, gmtoff: i32) -> Timespec {
    let y = 1980 + i64::from(dt.date >> 9);
    let m = i64::from((dt.date >> 5) & 0x0f).clamp(1, 12);
    let d = i64::from(dt.date & 0x1f).max(1);
    let h = i64::from(dt.time >> 11).min(23);
    let min = i64::from((dt.time >> 5) & 0x3f).min(59);
    let s = i64::from(dt.time & 0x1f).min(29) * 2;
    let hun = i64::from(dt.hundredths.min(199));
    let local = days_from_civil(y, m, d) * 86_400 + h * 3600 + min * 60 + s + hun / 100;
    Timespec {
        sec: local - i64::from(gmtoff),
        nsec: (hun % 100) * 10_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(sec: i64, nsec: i64) -> Timespec {
        Timespec { sec, nsec }
    }

    #[test]
    fn two_second_steps_and_hundredths() {
        // 2009-02-13 23:31:31 UTC.
        let t = ts(1_234_567_891, 250_000_000);
        let d = to_dos(t, 0);
        assert_eq!(d.date, ((2009 - 1980) << 9) | (2 << 5) | 13);
        assert_eq!(d.time, (23 << 11) | (31 << 5) | 15);
        assert_eq!(d.hundredths, 125);
        assert_eq!(from_dos(d, 0), t);
        let plain = DosTime { hundredths: 0, ..d };
        assert_eq!(from_dos(plain, 0), ts(1_234_567_890, 0));
        let east = to_dos(t, 3600);
        assert_eq!(east.time >> 11, 0);
        assert_eq!(from_dos(east, 3600), t);
    }

    #[test]
    fn range_is_clamped() {
        assert_eq!(from_dos(to_dos(ts(0, 0), 0), 0), ts(DOS_EPOCH, 0));
        let last = from_dos(to_dos(ts(i64::MAX / 2, 0), 0), 0);
        assert_eq!(last, ts(DOS_LAST, 0));
        let junk = from_dos(
            DosTime {
                date: 0,
                time: 0xffff,
                hundredths: 255,
            },
            0,
        );
        assert!(junk.sec >= DOS_EPOCH);
    }
}

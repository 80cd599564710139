//! Local time for the tools' dates: the host's time zone (a TZif file
//! named by TZ or /etc/localtime, with its POSIX rule for later times),
//! the civil calendar, and the date formats of ls(1) and stat(1).

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tm {
    pub year: i64,
    /// 0 to 11.
    pub mon: u32,
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1 to 12).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day number: (year, month 1 to 12, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Breaks seconds since the epoch down, without any zone.
pub(super) fn breakdown(t: i64) -> Tm {
    let (days, secs) = (t.div_euclid(86400), t.rem_euclid(86400));
    let (year, m, mday) = civil_from_days(days);
    Tm {
        year,
        mon: m - 1,
        mday,
        hour: (secs / 3600) as u32,
        min: (secs / 60 % 60) as u32,
        sec: (secs % 60) as u32,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_days(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A POSIX TZ rule date "Mm.w.d" and its time of day in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RuleDate {
    month: u32,
    week: u32,
    wday: u32,
    time: i64,
}

impl RuleDate {
    /// Seconds since the epoch, in local time of the offset in force
    /// before the change, of this date in `year`.
    fn local_seconds(&self, year: i64) -> i64 {
        let first = days_from_civil(year, self.month, 1);
        let first_wday = (first + 4).rem_euclid(7) as u32;
        let mut day = 1 + (self.wday + 7 - first_wday) % 7 + (self.week - 1) * 7;
        while day > month_days(year, self.month) {
            day -= 7;
        }
        (first + i64::from(day) - 1) * 86400 + self.time
    }
}

/// The rule a TZif footer gives for times after its last transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rule {
    std_off: i64,
    dst: Option<(i64, RuleDate, RuleDate)>,
}

impl Rule {
    fn offset(&self, t: i64) -> i64 {
        let Some((dst_off, start, end)) = self.dst else {
            return self.std_off;
        };
        let year = breakdown(t + self.std_off).year;
        let begins = start.local_seconds(year) - self.std_off;
        let ends = end.local_seconds(year) - dst_off;
        let in_dst = if begins < ends {
            t >= begins && t < ends
        } else {
            t >= begins || t < ends
        };
        if in_dst {
            dst_off
        } else {
            self.std_off
        }
    }
}

/// A time zone: transitions (time, UTC offset after it) and the rule
/// for later times.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Zone {
    transitions: Vec<(i64, i64)>,
    initial: i64,
    rule: Option<Rule>,
}

impl Zone {
    /// The host's zone: TZ (a zone name, a path, or empty for UTC) or
    /// /etc/localtime; UTC when neither can be read.
    pub(super) fn local() -> Zone {
        let file = match std::env::var("TZ") {
            Ok(tz) if tz.is_empty() => return Zone::default(),
            Ok(tz) => {
                let tz = tz.strip_prefix(':').unwrap_or(&tz).to_string();
                if tz.starts_with('/') {
                    tz
                } else {
                    format!("/usr/share/zoneinfo/{tz}")
                }
            }
            Err(_) => "/etc/localtime".to_string(),
        };
        std::fs::read(file)
            .ok()
            .and_then(|d| Zone::parse(&d))
            .unwrap_or_default()
    }

    /// The offset from UTC, in seconds, at `t`.
    pub(super) fn offset(&self, t: i64) -> i64 {
        match self.transitions.iter().rposition(|&(at, _)| at <= t) {
            Some(i) if i + 1 == self.transitions.len() => {
                self.rule.map_or(self.transitions[i].1, |r| r.offset(t))
            }
            Some(i) => self.transitions[i].1,
            None if self.transitions.is_empty() => self.rule.map_or(self.initial, |r| r.offset(t)),
            None => self.initial,
        }
    }

    /// `t` in this zone.
    pub(super) fn localtime(&self, t: i64) -> Tm {
        breakdown(t.saturating_add(self.offset(t)))
    }

    /// Parses a TZif file (version 1, or the 64-bit data of 2 and later).
    pub(super) fn parse(d: &[u8]) -> Option<Zone> {
        let (h1, body1) = TzifHeader::read(d)?;
        if h1.version < b'2' {
            return Zone::from_block(&h1, body1, 4, &[]);
        }
        let (h2, body2) = TzifHeader::read(body1.get(h1.block_len(4)..)?)?;
        let footer = body2.get(h2.block_len(8)..).unwrap_or(&[]);
        Zone::from_block(&h2, body2, 8, footer)
    }

    fn from_block(h: &TzifHeader, b: &[u8], tsize: usize, footer: &[u8]) -> Option<Zone> {
        let times = b.get(..h.timecnt * tsize)?;
        let idx = b.get(h.timecnt * tsize..h.timecnt * (tsize + 1))?;
        let tt_start = h.timecnt * (tsize + 1);
        let types = b.get(tt_start..tt_start + h.typecnt * 6)?;
        let utoff = |i: usize| -> Option<i64> {
            let e = types.get(i * 6..i * 6 + 4)?;
            Some(i64::from(i32::from_be_bytes(e.try_into().ok()?)))
        };
        let mut transitions = Vec::with_capacity(h.timecnt);
        for (i, &ti) in idx.iter().enumerate() {
            let raw = &times[i * tsize..(i + 1) * tsize];
            let at = if tsize == 8 {
                i64::from_be_bytes(raw.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(raw.try_into().ok()?))
            };
            transitions.push((at, utoff(usize::from(ti))?));
        }
        let initial = utoff(0).unwrap_or(0);
        let rule = std::str::from_utf8(footer)
            .ok()
            .map(|s| s.trim_matches('\n'))
            .and_then(parse_posix_tz);
        Some(Zone {
            transitions,
            initial,
            rule,
        })
    }
}

struct TzifHeader {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl TzifHeader {
    fn read(d: &[u8]) -> Option<(TzifHeader, &[u8])> {
        if d.get(..4)? != b"TZif" {
            return None;
        }
        let n = |i: usize| -> Option<usize> {
            let b = d.get(20 + i * 4..24 + i * 4)?;
            Some(u32::from_be_bytes(b.try_into().ok()?) as usize)
        };
        let h = TzifHeader {
            version: *d.get(4)?,
            isutcnt: n(0)?,
            isstdcnt: n(1)?,
            leapcnt: n(2)?,
            timecnt: n(3)?,
            typecnt: n(4)?,
            charcnt: n(5)?,
        };
        Some((h, d.get(44..)?))
    }

    /// The length of the data block with `tsize`-byte times.
    fn block_len(&self, tsize: usize) -> usize {
        self.timecnt * (tsize + 1)
            + self.typecnt * 6
            + self.charcnt
            + self.leapcnt * (tsize + 4)
            + self.isstdcnt
            + self.isutcnt
    }
}

/// Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3"; only
/// the "Mm.w.d" form of rule dates is understood.
fn parse_posix_tz(s: &str) -> Option<Rule> {
    let mut p = Cursor(s.as_bytes());
    p.name()?;
    let std_off = -p.hms()?;
    if p.0.is_empty() {
        return Some(Rule { std_off, dst: None });
    }
    p.name()?;
    let dst_off = match p.0.first() {
        Some(b',') => std_off + 3600,
        _ => -p.hms()?,
    };
    p.eat(b',')?;
    let start = p.rule_date()?;
    p.eat(b',')?;
    let end = p.rule_date()?;
    Some(Rule {
        std_off,
        dst: Some((dst_off, start, end)),
    })
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> Option<()> {
        let (&first, rest) = self.0.split_first()?;
        (first == c).then(|| self.0 = rest)
    }

    fn name(&mut self) -> Option<()> {
        let n = if self.0.first() == Some(&b'<') {
            self.0.iter().position(|&c| c == b'>')? + 1
        } else {
            self.0
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count()
        };
        (n >= 3).then(|| self.0 = &self.0[n..])
    }

    fn number(&mut self) -> Option<i64> {
        let n = self.0.iter().take_while(|c| c.is_ascii_digit()).count();
        let v = std::str::from_utf8(&self.0[..n]).ok()?.parse().ok()?;
        self.0 = &self.0[n..];
        Some(v)
    }

    /// [+-]hh[:mm[:ss]] in seconds.
    fn hms(&mut self) -> Option<i64> {
        let sign = match self.0.first() {
            Some(b'-') => -1,
            _ => 1,
        };
        if matches!(self.0.first(), Some(b'-' | b'+')) {
            self.0 = &self.0[1..];
        }
        let mut v = self.number()? * 3600;
        for unit in [60, 1] {
            if self.eat(b':').is_none() {
                break;
            }
            v += self.number()? * unit;
        }
        Some(sign * v)
    }

    fn rule_date(&mut self) -> Option<RuleDate> {
        self.eat(b'M')?;
        let month = u32::try_from(self.number()?).ok()?;
        self.eat(b'.')?;
        let week = u32::try_from(self.number()?).ok()?;
        self.eat(b'.')?;
        let wday = u32::try_from(self.number()?).ok()?;
        let time = if self.eat(b'/').is_some() {
            self.hms()?
        } else {
            7200
        };
        let valid = (1..=12).contains(&month) && (1..=5).contains(&week) && wday <= 6;
        valid.then_some(RuleDate {
            month,
            week,
            wday,
            time,
        })
    }
}

/// The seconds in ls's "six months" (half of 365 days).
const SIX_MONTHS: i64 = 365 / 2 * 86400;

/// ls -l's date column: "Mon dd HH:MM" within six months of `now`,
/// "Mon dd  YYYY" otherwise; with `full`, "Mon dd HH:MM:SS YYYY".
pub(super) fn ls_date(zone: &Zone, t: i64, now: i64, full: bool) -> String {
    let tm = zone.localtime(t);
    let head = format!("{} {:>2} ", MONTHS[tm.mon as usize], tm.mday);
    if full {
        format!(
            "{head}{:02}:{:02}:{:02} {}",
            tm.hour, tm.min, tm.sec, tm.year
        )
    } else if t + SIX_MONTHS > now && t - SIX_MONTHS < now {
        format!("{head}{:02}:{:02}", tm.hour, tm.min)
    } else {
        format!("{head} {}", tm.year)
    }
}

/// stat(1)'s default time format, strftime "%b %e %T %Y".
pub(super) fn stat_date(zone: &Zone, t: i64) -> String {
    let tm = zone.localtime(t);
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {}",
        MONTHS[tm.mon as usize], tm.mday, tm.hour, tm.min, tm.sec, tm.year
    )
}

/// The host's time now, in seconds since the epoch.
pub(super) fn now() -> i64 {
    netbsd_abi::stat::Timespec::now().sec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(civil_from_days(11017), (2000, 3, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let tm = breakdown(1_700_000_000);
        assert_eq!(
            tm,
            Tm {
                year: 2023,
                mon: 10,
                mday: 14,
                hour: 22,
                min: 13,
                sec: 20
            }
        );
        assert_eq!(breakdown(-1).year, 1969);
    }

    #[test]
    fn ls_date_rule() {
        let utc = Zone::default();
        let now = 1_700_000_000; // Tue Nov 14 22:13:20 2023
        assert_eq!(ls_date(&utc, now - 3600, now, false), "Nov 14 21:13");
        assert_eq!(ls_date(&utc, now - 200 * 86400, now, false), "Apr 28  2023");
        assert_eq!(ls_date(&utc, now + 200 * 86400, now, false), "Jun  1  2024");
        assert_eq!(ls_date(&utc, now - 10 * 86400, now, false), "Nov  4 22:13");
        assert_eq!(ls_date(&utc, 0, now, true), "Jan  1 00:00:00 1970");
        // The boundary: exactly six months old is no longer recent.
        let edge = now - SIX_MONTHS;
        assert!(ls_date(&utc, edge, now, false).ends_with(" 2023"));
        assert!(ls_date(&utc, edge + 1, now, false).contains(':'));
        assert_eq!(stat_date(&utc, now), "Nov 14 22:13:20 2023");
    }

    #[test]
    fn posix_rules() {
        let r = parse_posix_tz("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        assert_eq!(r.std_off, 3600);
        // 2023-07-01 12:00 UTC: summer time.
        let july = days_from_civil(2023, 7, 1) * 86400 + 43200;
        assert_eq!(r.offset(july), 7200);
        let jan = days_from_civil(2023, 1, 15) * 86400;
        assert_eq!(r.offset(jan), 3600);
        // DST began 2023-03-26 01:00 UTC.
        let start = days_from_civil(2023, 3, 26) * 86400 + 3600;
        assert_eq!(r.offset(start - 1), 3600);
        assert_eq!(r.offset(start), 7200);
        let ny = parse_posix_tz("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(ny.offset(july), -4 * 3600);
        assert_eq!(ny.offset(jan), -5 * 3600);
        assert_eq!(parse_posix_tz("<+0530>-5:30").unwrap().std_off, 19800);
        assert_eq!(parse_posix_tz("UTC0").unwrap().offset(july), 0);
        assert!(parse_posix_tz("").is_none());
    }

    /// A version 2 TZif file with one transition and a footer.
    fn tzif(footer: &str) -> Vec<u8> {
        let header = |timecnt: u32, typecnt: u32, charcnt: u32| {
            let mut h = b"TZif2".to_vec();
            h.resize(20, 0);
            for n in [0u32, 0, 0, timecnt, typecnt, charcnt] {
                h.extend_from_slice(&n.to_be_bytes());
            }
            h
        };
        let mut d = header(0, 1, 4);
        d.extend_from_slice(&0i32.to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(b"UTC\0");
        d.extend(header(1, 2, 8));
        d.extend_from_slice(&1_000_000_000i64.to_be_bytes());
        d.push(1);
        d.extend_from_slice(&0i32.to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(&3600i32.to_be_bytes());
        d.extend_from_slice(&[0, 4]);
        d.extend_from_slice(b"UTC\0ONE\0");
        d.extend_from_slice(format!("\n{footer}\n").as_bytes());
        d
    }

    #[test]
    fn tzif_files() {
        let z = Zone::parse(&tzif("ONE-1")).unwrap();
        assert_eq!(z.offset(0), 0);
        assert_eq!(z.offset(999_999_999), 0);
        assert_eq!(z.offset(1_000_000_000), 3600);
        let z = Zone::parse(&tzif("TWO-2")).unwrap();
        assert_eq!(z.offset(2_000_000_000), 7200);
        assert_eq!(z.localtime(0).hour, 0);
        assert!(Zone::parse(b"nonsense").is_none());
    }
}

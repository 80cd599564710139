//! Numbers as NetBSD's tools print and read them: humanize_number(3)
//! (the autoscaling, decimal, byte-suffixed form of `ls -h` and `df -h`),
//! dehumanize_number(3), strpct(3)'s whole percentages and getbsize(3)'s
//! BLOCKSIZE.

const PREFIXES: [&str; 7] = ["B", "K", "M", "G", "T", "P", "E"];

/// humanize_number(buf, len, bytes, "", HN_AUTOSCALE,
/// HN_B | HN_NOSPACE | HN_DECIMAL): `len` counts the terminating NUL, so
/// the result has at most `len - 1` characters; `None` if it cannot fit.
pub(super) fn humanize(bytes: i64, len: usize) -> Option<String> {
    let (sign, mut baselen, mut b, post) = if bytes < 0 {
        let m = bytes.checked_neg().unwrap_or(i64::MAX);
        match m.checked_mul(100).filter(|_| m < i64::MAX / 100) {
            Some(v) => (-1, 3, v, 1),
            None => (-1, 5, m, 100),
        }
    } else if bytes < i64::MAX / 100 {
        (1, 2, bytes * 100, 1)
    } else {
        (1, 4, bytes, 100)
    };
    if len < baselen + 1 {
        return None;
    }
    let mut max: i64 = 100;
    for _ in 0..len - baselen {
        max = max.saturating_mul(10);
    }
    let mut scale = 0;
    while b >= max - 50 && scale < PREFIXES.len() {
        b /= 1024;
        scale += 1;
    }
    b = b.saturating_mul(post);
    let prefix = PREFIXES.get(scale).copied().unwrap_or("");
    let s = if b < 995 && scale > 0 {
        baselen += 2;
        if len < baselen + 1 {
            return None;
        }
        let r = (b + 5) / 10;
        format!("{}.{}{prefix}", sign * (r / 10), r % 10)
    } else {
        format!("{}{prefix}", sign * ((b + 50) / 100))
    };
    Some(s.chars().take(len - 1).collect())
}

/// dehumanize_number(3): a decimal number with an optional b, k, m or g
/// suffix (binary multiples, either case).
pub(super) fn dehumanize(s: &str) -> Option<i64> {
    let (digits, mult) = match s.chars().last()? {
        c if c.is_ascii_alphabetic() => {
            let m: i64 = match c.to_ascii_lowercase() {
                'b' => 1,
                'k' => 1 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                _ => return None,
            };
            (&s[..s.len() - 1], m)
        }
        _ => (s, 1),
    };
    digits.parse::<i64>().ok()?.checked_mul(mult)
}

/// strspct(3) with no decimals: `num * 100 / den`, truncated.
pub(super) fn percent(num: i64, den: i64) -> String {
    let neg = (num < 0) != (den < 0);
    let (n, d) = (
        num.unsigned_abs() as u128,
        den.unsigned_abs().max(1) as u128,
    );
    let v = n * 100 / d;
    if neg && v != 0 {
        format!("-{v}")
    } else {
        v.to_string()
    }
}

/// getbsize(3): the block size BLOCKSIZE asks for (512 by default) and
/// its column header ("512-blocks", "1K-blocks", ...); complaints about
/// a bad value are printed with `prog`.
pub(super) fn block_size(prog: &str) -> (u64, String) {
    match std::env::var("BLOCKSIZE") {
        Ok(v) if !v.is_empty() => {
            let (size, header, complaint) = parse_block_size(&v);
            if let Some(c) = complaint {
                eprintln!("{prog}: {c}");
            }
            (size, header)
        }
        _ => (512, "512-blocks".into()),
    }
}

/// The block size, header and any complaint for a BLOCKSIZE value.
fn parse_block_size(v: &str) -> (u64, String, Option<String>) {
    const GB: u64 = 1 << 30;
    let split = v
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(v.len(), |(i, _)| i);
    let (num, unit) = v.split_at(split);
    let n: i64 = num.parse().unwrap_or(0);
    if n < 0 {
        return (
            512,
            "512-blocks".into(),
            Some(format!("{v}: minimum blocksize is 512")),
        );
    }
    let n = (n as u64).max(1);
    let (form, mul) = match unit.to_ascii_lowercase().as_str() {
        "" => ("", 1),
        "k" => ("K", 1 << 10),
        "m" => ("M", 1 << 20),
        "g" => ("G", GB),
        _ => {
            let c = Some(format!("{v}: unknown blocksize"));
            return (512, "512-blocks".into(), c);
        }
    };
    let (n, complaint) = if n > GB / mul {
        (GB / mul, Some("maximum blocksize is 1G".to_string()))
    } else {
        (n, None)
    };
    if n * mul < 512 {
        let c = Some(format!("{v}: minimum blocksize is 512"));
        return (512, "512-blocks".into(), c);
    }
    (n * mul, format!("{n}{form}-blocks"), complaint)
}

/// howmany(n, unit): `n` divided by `unit`, rounded up.
pub(super) fn howmany(n: u64, unit: u64) -> u64 {
    n.div_ceil(unit.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_like_netbsd() {
        assert_eq!(humanize(0, 5).as_deref(), Some("0B"));
        assert_eq!(humanize(999, 5).as_deref(), Some("999B"));
        assert_eq!(humanize(1000, 5).as_deref(), Some("1.0K"));
        assert_eq!(humanize(1024, 5).as_deref(), Some("1.0K"));
        assert_eq!(humanize(1536, 5).as_deref(), Some("1.5K"));
        assert_eq!(humanize(10 * 1024, 5).as_deref(), Some("10K"));
        assert_eq!(humanize(999 * 1024, 5).as_deref(), Some("999K"));
        assert_eq!(humanize(1023 * 1024, 5).as_deref(), Some("1.0M"));
        assert_eq!(humanize(1024 * 1024, 5).as_deref(), Some("1.0M"));
        assert_eq!(humanize(8 << 30, 5).as_deref(), Some("8.0G"));
        assert_eq!(humanize(3 << 40, 5).as_deref(), Some("3.0T"));
        assert_eq!(humanize(1, 2), None);
    }

    #[test]
    fn dehumanize_suffixes() {
        assert_eq!(dehumanize("10"), Some(10));
        assert_eq!(dehumanize("10b"), Some(10));
        assert_eq!(dehumanize("4k"), Some(4096));
        assert_eq!(dehumanize("2M"), Some(2 << 20));
        assert_eq!(dehumanize("1g"), Some(1 << 30));
        assert_eq!(dehumanize("1t"), None);
        assert_eq!(dehumanize("k"), None);
        assert_eq!(dehumanize("1.5m"), None);
        assert_eq!(dehumanize(""), None);
    }

    #[test]
    fn percentages_and_block_sizes() {
        assert_eq!(percent(1, 3), "33");
        assert_eq!(percent(2, 3), "66");
        assert_eq!(percent(0, 0), "0");
        assert_eq!(percent(5, 5), "100");
        assert_eq!(parse_block_size("1k"), (1024, "1K-blocks".into(), None));
        assert_eq!(parse_block_size("1024"), (1024, "1024-blocks".into(), None));
        assert_eq!(parse_block_size("2M"), (2 << 20, "2M-blocks".into(), None));
        assert_eq!(parse_block_size("100").0, 512);
        assert!(parse_block_size("100").2.is_some());
        assert!(parse_block_size("1q").2.is_some());
        assert_eq!(howmany(1025, 1024), 2);
        assert_eq!(howmany(0, 2), 0);
    }
}

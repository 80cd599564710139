//! Boot parameters: the number of virtual CPUs, the memory limit and
//! verbosity, from the options or from RUMP_NCPU, RUMP_MEMLIMIT and
//! RUMP_VERBOSE. A bad value is refused with a message before anything
//! starts (NetBSD's kernel panics on these instead).

use crate::cli::Options;
use netbsd_abi::limits::MAXCPUS;

/// Validated boot parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootConfig {
    pub ncpu: usize,
    /// Kernel memory limit in bytes; `None` for no limit of our own.
    pub memlimit: Option<u64>,
    pub verbose: bool,
    /// Things worth saying in verbose mode (clamping, small limits).
    pub notes: Vec<String>,
}

/// The smallest memory limit a kernel can run in (2 × MAXPHYS).
pub const MIN_MEMLIMIT: u64 = 128 * 1024;

/// Reads the configuration; `env` looks up environment variables.
pub fn resolve(o: &Options, env: impl Fn(&str) -> Option<String>) -> Result<BootConfig, String> {
    let mut notes = Vec::new();
    let ncpu = match (&o.ncpu, env("RUMP_NCPU")) {
        (Some(v), _) => parse_ncpu(&format!("-c {v}"), v, &mut notes)?,
        (None, Some(v)) => parse_ncpu(&format!("RUMP_NCPU={v}"), &v, &mut notes)?,
        (None, None) => host_cpus(),
    };
    let memlimit = match (&o.memlimit, env("RUMP_MEMLIMIT")) {
        (Some(v), _) => Some(parse_memlimit(&format!("-r {v}"), v, &mut notes)?),
        (None, Some(v)) => Some(parse_memlimit(
            &format!("RUMP_MEMLIMIT={v}"),
            &v,
            &mut notes,
        )?),
        (None, None) => None,
    };
    let verbose = o.verbose || env("RUMP_VERBOSE").is_some_and(|v| !v.starts_with('0'));
    Ok(BootConfig {
        ncpu,
        memlimit,
        verbose,
        notes,
    })
}

fn host_cpus() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAXCPUS)
}

fn parse_ncpu(src: &str, v: &str, notes: &mut Vec<String>) -> Result<usize, String> {
    if v == "host" {
        return Ok(host_cpus());
    }
    match v.trim().parse::<u64>() {
        Ok(n) if n >= 1 => {
            if n > MAXCPUS as u64 {
                notes.push(format!("{src}: clamped to the maximum of {MAXCPUS} CPUs"));
            }
            Ok((n as usize).min(MAXCPUS))
        }
        _ => Err(format!(
            "{src}: the number of CPUs must be a number from 1 to {MAXCPUS}, or `host'"
        )),
    }
}

fn parse_memlimit(src: &str, v: &str, notes: &mut Vec<String>) -> Result<u64, String> {
    let bad = || format!("{src}: expected a number of bytes with an optional k, m or g suffix");
    let (digits, mult) = match v.as_bytes().last() {
        Some(b'k' | b'K') => (&v[..v.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&v[..v.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{src}: too large"))?;
    if n <= MIN_MEMLIMIT {
        return Err(format!(
            "{src}: a kernel needs more than {MIN_MEMLIMIT} bytes of memory"
        ));
    }
    if n < 1 << 20 {
        notes.push(format!(
            "{src}: a limit below 1 MiB leaves little room for the kernel"
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(
        ncpu: Option<&str>,
        mem: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<BootConfig, String> {
        let o = Options {
            ncpu: ncpu.map(str::to_string),
            memlimit: mem.map(str::to_string),
            ..Options::default()
        };
        resolve(&o, |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn options_override_environment() {
        let c = cfg(Some("3"), Some("16m"), &[("RUMP_NCPU", "5")]).unwrap();
        assert_eq!((c.ncpu, c.memlimit), (3, Some(16 << 20)));
        let c = cfg(None, None, &[("RUMP_NCPU", "5"), ("RUMP_MEMLIMIT", "2g")]).unwrap();
        assert_eq!((c.ncpu, c.memlimit), (5, Some(2 << 30)));
        assert_eq!(cfg(Some("host"), None, &[]).unwrap().ncpu, host_cpus());
        let c = cfg(Some("1000"), None, &[]).unwrap();
        assert_eq!(c.ncpu, 256);
        assert_eq!(c.notes.len(), 1);
        assert!(cfg(None, None, &[("RUMP_VERBOSE", "1")]).unwrap().verbose);
        assert!(!cfg(None, None, &[("RUMP_VERBOSE", "0")]).unwrap().verbose);
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(
            cfg(Some("0"), None, &[]).unwrap_err(),
            "-c 0: the number of CPUs must be a number from 1 to 256, or `host'"
        );
        assert!(cfg(Some("two"), None, &[]).is_err());
        assert!(cfg(None, None, &[("RUMP_NCPU", "-1")])
            .unwrap_err()
            .starts_with("RUMP_NCPU=-1"));
        assert_eq!(
            cfg(None, Some("lots"), &[]).unwrap_err(),
            "-r lots: expected a number of bytes with an optional k, m or g suffix"
        );
        assert!(cfg(None, Some("64k"), &[])
            .unwrap_err()
            .contains("more than 131072"));
        assert!(cfg(None, Some("99999999999g"), &[]).is_err());
    }
}

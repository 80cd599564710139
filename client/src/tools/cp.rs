//! rump.cp [-R [-L | -P]] [-f] [-aprv] source target, or source ...
//! directory: copies files and trees inside the kernel, as cp(1).

use super::common::{parse_args, usage, warnx};
use super::copy::{Copier, CopyOpts, Outcome};
use super::fsops::Kernel;
use super::getopt::Opt;

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!(
        "usage: {prog} [-R [-L | -P]] [-f] [-apv] src target\n       \
         {prog} [-R [-L | -P]] [-f] [-apv] src1 ... srcN directory\n"
    );
    let (opts, mut operands) = match parse_args(prog, args, "LPRafprv", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let copy = match options(&opts) {
        Ok(c) => c,
        Err(msg) => {
            warnx(prog, msg);
            return 1;
        }
    };
    if operands.len() < 2 {
        return usage(&text);
    }
    let target = operands.pop().unwrap_or_default();
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let k = Kernel(&client);
    match Copier::new(prog, &k, &k, copy).run(&operands, &target) {
        Outcome::Done(ok) => i32::from(!ok),
        Outcome::Usage => usage(&text),
    }
}

/// The copy options for cp's switches: without -R links are followed;
/// -R copies them as links unless -L; -r is -R -L; -a is -R -P -p.
fn options(opts: &[Opt]) -> Result<CopyOpts, &'static str> {
    let mut c = CopyOpts {
        same_fs: true,
        ..CopyOpts::default()
    };
    let (mut big_r, mut small_r, mut logical, mut physical) = (false, false, false, false);
    for o in opts {
        match o {
            Opt::Flag('R') => big_r = true,
            Opt::Flag('r') => small_r = true,
            Opt::Flag('L') => (logical, physical) = (true, false),
            Opt::Flag('P') => (physical, logical) = (true, false),
            Opt::Flag('a') => (big_r, physical, logical, c.preserve) = (true, true, false, true),
            Opt::Flag('f') => c.force = true,
            Opt::Flag('p') => c.preserve = true,
            Opt::Flag('v') => c.verbose = true,
            _ => {}
        }
    }
    if big_r && small_r {
        return Err("the -R and -r options may not be specified together.");
    }
    if small_r && (logical || physical) {
        return Err("the -H, -L, and -P options may not be specified with the -r option.");
    }
    c.recursive = big_r || small_r;
    c.follow = if big_r { logical } else { !physical };
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(flags: &str) -> Result<CopyOpts, &'static str> {
        let v: Vec<Opt> = flags.chars().map(Opt::Flag).collect();
        options(&v)
    }

    #[test]
    fn switches() {
        let plain = o("").unwrap();
        assert!(plain.follow && !plain.recursive && !plain.preserve && plain.same_fs);
        let r = o("R").unwrap();
        assert!(r.recursive && !r.follow);
        assert!(o("RL").unwrap().follow);
        assert!(o("r").unwrap().follow && o("r").unwrap().recursive);
        assert!(!o("P").unwrap().follow);
        let a = o("a").unwrap();
        assert!(a.recursive && a.preserve && !a.follow);
        assert!(o("Rr").is_err());
        assert!(o("rL").is_err());
        assert!(o("pfv").unwrap().preserve && o("f").unwrap().force);
    }
}

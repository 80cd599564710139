//! POSIX getopt(3) for the tools: options stop at the first operand or
//! at `--`; `c:` takes an argument, attached or as the next word.

/// A parsed option or the reason parsing stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Opt {
    Flag(char),
    Arg(char, String),
}

/// Parses `args` against `spec`; returns the options and the operands,
/// or getopt's diagnostic (without the program name).
pub fn getopt(args: &[String], spec: &str) -> Result<(Vec<Opt>, Vec<String>), String> {
    let takes_arg = |c: char| {
        spec.find(c)
            .map(|i| spec[i + c.len_utf8()..].starts_with(':'))
    };
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            match takes_arg(c) {
                None => return Err(format!("unknown option -- {c}")),
                Some(false) => opts.push(Opt::Flag(c)),
                Some(true) => {
                    let v = if j < chars.len() {
                        let v: String = chars[j..].iter().collect();
                        j = chars.len();
                        v
                    } else if i + 1 < args.len() {
                        i += 1;
                        args[i].clone()
                    } else {
                        return Err(format!("option requires an argument -- {c}"));
                    };
                    opts.push(Opt::Arg(c, v));
                }
            }
        }
        i += 1;
    }
    Ok((opts, args[i..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn forms() {
        let (o, rest) = getopt(&s(&["-dn", "-kx", "name", "-h"]), "dhnk:").unwrap();
        assert_eq!(
            o,
            vec![Opt::Flag('d'), Opt::Flag('n'), Opt::Arg('k', "x".into())]
        );
        assert_eq!(rest, s(&["name", "-h"]));
        assert_eq!(
            getopt(&s(&["-z"]), "dhn").unwrap_err(),
            "unknown option -- z"
        );
        assert_eq!(
            getopt(&s(&["-k"]), "k:").unwrap_err(),
            "option requires an argument -- k"
        );
    }
}

//! Reading the wire captures in `vectors/`: connections made of frames,
//! each with its direction and exact bytes.

/// Who sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ClientToServer,
    ServerToClient,
}

/// One step of a captured connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The server's text banner.
    Banner(Vec<u8>),
    /// A frame (or raw bytes) sent in direction `Dir`; `title` is the
    /// capture's description line.
    Frame {
        dir: Dir,
        title: String,
        bytes: Vec<u8>,
    },
    /// The side in `Dir` closed the connection.
    Eof(Dir),
}

/// One captured connection.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    pub steps: Vec<Step>,
}

/// Parses a `.frames.txt` file.
pub fn parse(text: &str) -> Vec<Connection> {
    let mut conns = vec![Connection::default()];
    let mut current: Option<(Option<Dir>, String, Vec<u8>)> = None;
    let flush = |cur: &mut Option<(Option<Dir>, String, Vec<u8>)>, conns: &mut Vec<Connection>| {
        if let Some((dir, title, bytes)) = cur.take() {
            let step = match dir {
                None => Step::Banner(bytes),
                Some(dir) => Step::Frame { dir, title, bytes },
            };
            conns.last_mut().unwrap().steps.push(step);
        }
    };
    for line in text.lines() {
        if line.starts_with("### connection") {
            flush(&mut current, &mut conns);
            if !conns.last().unwrap().steps.is_empty() {
                conns.push(Connection::default());
            }
        } else if let Some(rest) = line
            .strip_prefix("S->C ")
            .or_else(|| line.strip_prefix("C->S "))
        {
            flush(&mut current, &mut conns);
            let dir = if line.starts_with("S->C") {
                Dir::ServerToClient
            } else {
                Dir::ClientToServer
            };
            if rest.starts_with("EOF") {
                conns.last_mut().unwrap().steps.push(Step::Eof(dir));
            } else if rest.starts_with("BANNER") {
                current = Some((None, rest.to_string(), Vec::new()));
            } else {
                current = Some((Some(dir), rest.to_string(), Vec::new()));
            }
        } else if let Some((_, _, bytes)) = current.as_mut() {
            if let Some(hex) = hexdump_bytes(line) {
                bytes.extend(hex);
            }
        }
    }
    flush(&mut current, &mut conns);
    conns
}

/// The bytes of one hex-dump line (`    0010  44 2d ...  |D-..|`).
fn hexdump_bytes(line: &str) -> Option<Vec<u8>> {
    let t = line.strip_prefix("    ")?;
    let (offset, rest) = t.split_once("  ")?;
    if offset.len() != 4 || !offset.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = rest.split("  |").next()?;
    hex.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_capture() {
        let text = include_str!("../vectors/halt.frames.txt");
        let conns = parse(text);
        assert_eq!(conns.len(), 1);
        let steps = &conns[0].steps;
        assert_eq!(
            steps[0],
            Step::Banner(b"RUMPSP-0.4-NetBSD-7.99.34/amd64\n".to_vec())
        );
        let Step::Frame { dir, bytes, .. } = &steps[1] else {
            panic!()
        };
        assert_eq!(*dir, Dir::ClientToServer);
        assert_eq!(bytes.len(), 34);
        assert_eq!(&bytes[24..], b"rump.halt\0");
        assert_eq!(
            parse(include_str!("../vectors/malformed.frames.txt")).len(),
            5
        );
    }
}

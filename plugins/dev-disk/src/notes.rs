//! What a scan has to say: remarks for the log, collected while the
//! parsers run so that they stay free of the kernel and testable.

/// The most warnings kept from one scan; a hostile table could make
/// thousands.
pub const MAX_WARNINGS: usize = 32;

/// Log lines gathered during one scan.
#[derive(Debug, Default)]
pub struct Notes {
    /// `(is_warning, text)`, in order.
    pub lines: Vec<(bool, String)>,
    /// Warnings dropped past [`MAX_WARNINGS`].
    pub dropped: usize,
}

impl Notes {
    /// Something the image got wrong and how it was handled.
    pub fn warn(&mut self, text: String) {
        if self.lines.iter().filter(|(w, _)| *w).count() >= MAX_WARNINGS {
            self.dropped += 1;
            return;
        }
        self.lines.push((true, text));
    }

    /// What was found.
    pub fn info(&mut self, text: String) {
        self.lines.push((false, text));
    }

    /// All lines, with one counting the dropped warnings.
    pub fn into_lines(self) -> Vec<(bool, String)> {
        let mut lines = self.lines;
        if self.dropped > 0 {
            lines.push((true, format!("{} more warnings not shown", self.dropped)));
        }
        lines
    }

    /// Whether any line contains `part` (for tests).
    pub fn mention(&self, part: &str) -> bool {
        self.lines.iter().any(|(_, l)| l.contains(part))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_capped() {
        let mut n = Notes::default();
        for i in 0..100 {
            n.warn(format!("w{i}"));
        }
        n.info("found".into());
        let lines = n.into_lines();
        assert_eq!(lines.len(), MAX_WARNINGS + 2);
        assert_eq!(lines[MAX_WARNINGS], (false, "found".to_string()));
        assert_eq!(lines.last().unwrap().1, "68 more warnings not shown");
    }
}

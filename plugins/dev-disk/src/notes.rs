//! What a scan has to say: remarks for the log, collected while the
//! parsers run so that they stay free of the kernel and testable.

/// Log lines gathered during one scan.
#[derive(Debug, Default)]
pub struct Notes {
    /// `(is_warning, text)`, in order.
    pub lines: Vec<(bool, String)>,
}

impl Notes {
    /// Something the image got wrong and how it was handled.
    pub fn warn(&mut self, text: String) {
        self.lines.push((true, text));
    }

    /// What was found.
    pub fn info(&mut self, text: String) {
        self.lines.push((false, text));
    }

    /// Whether any line contains `part` (for tests).
    pub fn mention(&self, part: &str) -> bool {
        self.lines.iter().any(|(_, l)| l.contains(part))
    }
}

//! Line and column numbers, computed only for offsets that are reported.
//!
//! Like ripgrep's `count_lines`, newlines are counted from the last reported
//! offset to the next one, so a blob without matches never pays for lines and
//! a blob with matches pays once for the bytes up to its last match.

/// Counts lines forward through one blob. Offsets must be given in
/// non-decreasing order; each call costs the bytes since the previous one.
#[derive(Debug)]
pub struct LineCounter<'b> {
    blob: &'b [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'b> LineCounter<'b> {
    /// Starts at the beginning of `blob`, line 1.
    pub fn new(blob: &'b [u8]) -> LineCounter<'b> {
        LineCounter {
            blob,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// The 1-based (line, column) of byte `offset`; the column counts bytes.
    /// An offset behind the previous one restarts from the beginning.
    pub fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.blob.len());
        if offset < self.pos {
            *self = LineCounter::new(self.blob);
        }
        let seg = &self.blob[self.pos..offset];
        let newlines = memchr::memchr_iter(b'\n', seg).count();
        if newlines > 0 {
            self.line += newlines;
            let last = memchr::memrchr(b'\n', seg).expect("a segment with newlines has a last one");
            self.line_start = self.pos + last + 1;
        }
        self.pos = offset;
        (self.line, offset - self.line_start + 1)
    }
}

/// The bounds of the line holding `offset` (without its terminator).
pub fn line_bounds(blob: &[u8], offset: usize) -> std::ops::Range<usize> {
    let offset = offset.min(blob.len());
    let start = memchr::memrchr(b'\n', &blob[..offset]).map_or(0, |i| i + 1);
    let mut end = memchr::memchr(b'\n', &blob[offset..]).map_or(blob.len(), |i| offset + i);
    if end > start && blob[end - 1] == b'\r' {
        end -= 1;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_and_crlf() {
        let blob = b"ab\r\ncd\nef";
        let mut lc = LineCounter::new(blob);
        assert_eq!(lc.locate(0), (1, 1));
        assert_eq!(lc.locate(1), (1, 2));
        assert_eq!(lc.locate(4), (2, 1));
        assert_eq!(lc.locate(8), (3, 2));
        assert_eq!(lc.locate(5), (2, 2), "going back restarts");
        assert_eq!(line_bounds(blob, 1), 0..2);
        assert_eq!(line_bounds(blob, 5), 4..6);
        assert_eq!(line_bounds(blob, 9), 7..9);
    }

    #[test]
    fn non_utf8_counts_bytes() {
        let blob = b"\xff\xfe\n\xc3(x";
        let mut lc = LineCounter::new(blob);
        assert_eq!(lc.locate(5), (2, 3));
    }
}

//! [`KvState`], the value of one key as the search sees it: a string built for cheap cloning,
//! hashing, comparison and appending.
//!
//! The search clones, hashes and compares a state at every step and keeps one per explored
//! configuration, while values grow long under many appends. A plain `String` would cost a copy
//! of the whole value per append and per configuration (gigabytes on a long search). Instead a
//! value is a short chain of shared pieces: appending adds a node that points at the value
//! before it, so every value built from a common prefix shares that prefix's memory. Chains are
//! flattened into one piece every [`MAX_DEPTH`] appends, which bounds the cost of walking them.
//! The FNV-1a hash of the whole value is kept up to date piece by piece, so hashing is O(1) and
//! most unequal values are told apart without reading their text.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Longest chain of pieces before appending flattens the value into one piece.
const MAX_DEPTH: u32 = 16;

/// A string value, cheap to clone, hash, compare and append to.
#[derive(Clone)]
pub struct KvState(Rc<Piece>);

struct Piece {
    /// The value before `text`, or `None` if `text` is the whole value.
    before: Option<Rc<Piece>>,
    /// The last part of the value.
    text: Box<str>,
    /// Length in bytes of the whole value.
    len: usize,
    /// FNV-1a hash of the whole value.
    hash: u64,
    /// Number of pieces in the chain, this one included.
    depth: u32,
}

impl KvState {
    /// A value holding `text`.
    pub fn new(text: &str) -> Self {
        KvState(Rc::new(Piece {
            before: None,
            text: text.into(),
            len: text.len(),
            hash: fnv1a(FNV_OFFSET, text),
            depth: 1,
        }))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len
    }

    /// Whether the value is "".
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// This value followed by `suffix`.
    pub fn appended(&self, suffix: &str) -> Self {
        let hash = fnv1a(self.0.hash, suffix);
        let len = self.0.len + suffix.len();
        if self.0.depth >= MAX_DEPTH {
            let mut text = String::with_capacity(len);
            self.write_to(&mut text);
            text.push_str(suffix);
            return KvState(Rc::new(Piece {
                before: None,
                text: text.into(),
                len,
                hash,
                depth: 1,
            }));
        }
        KvState(Rc::new(Piece {
            before: Some(Rc::clone(&self.0)),
            text: suffix.into(),
            len,
            hash,
            depth: self.0.depth + 1,
        }))
    }

    /// Whether the value is exactly `text`.
    pub fn equals_str(&self, text: &str) -> bool {
        if self.len() != text.len() {
            return false;
        }
        // Compare piece by piece from the end.
        let text = text.as_bytes();
        let mut end = text.len();
        for piece in self.pieces_last_first() {
            let start = end - piece.text.len();
            if text[start..end] != *piece.text.as_bytes() {
                return false;
            }
            end = start;
        }
        true
    }

    /// The pieces, last first.
    fn pieces_last_first(&self) -> impl Iterator<Item = &Piece> {
        std::iter::successors(Some(&*self.0), |piece| piece.before.as_deref())
    }

    /// Appends the whole value to `out`.
    fn write_to(&self, out: &mut String) {
        let pieces: Vec<&Piece> = self.pieces_last_first().collect();
        for piece in pieces.iter().rev() {
            out.push_str(&piece.text);
        }
    }
}

impl PartialEq for KvState {
    fn eq(&self, other: &Self) -> bool {
        if self.0.hash != other.0.hash || self.0.len != other.0.len {
            return false;
        }
        // Walk both chains from the end; `a_end` and `b_end` are how much of the current
        // piece's text is still to compare.
        let (mut a, mut b) = (&*self.0, &*other.0);
        let (mut a_end, mut b_end) = (a.text.len(), b.text.len());
        loop {
            while a_end == 0 {
                let Some(before) = a.before.as_deref() else {
                    break;
                };
                a = before;
                a_end = a.text.len();
            }
            while b_end == 0 {
                let Some(before) = b.before.as_deref() else {
                    break;
                };
                b = before;
                b_end = b.text.len();
            }
            if a_end == 0 || b_end == 0 {
                return a_end == 0 && b_end == 0;
            }
            // Both at the end of the same shared piece: everything before it is shared too.
            if std::ptr::eq(a, b) && a_end == a.text.len() && b_end == b.text.len() {
                return true;
            }
            let n = a_end.min(b_end);
            if a.text.as_bytes()[a_end - n..a_end] != b.text.as_bytes()[b_end - n..b_end] {
                return false;
            }
            a_end -= n;
            b_end -= n;
        }
    }
}

impl Eq for KvState {}

impl Hash for KvState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl fmt::Display for KvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(self.len());
        self.write_to(&mut text);
        f.write_str(&text)
    }
}

impl fmt::Debug for KvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, a byte-at-a-time hash: the hash of `a + b` is `fnv1a(fnv1a(FNV_OFFSET, a), b)`.
fn fnv1a(mut hash: u64, text: &str) -> u64 {
    for &byte in text.as_bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_one;

    fn built(pieces: &[&str]) -> KvState {
        pieces[1..]
            .iter()
            .fold(KvState::new(pieces[0]), |s, p| s.appended(p))
    }

    #[test]
    fn values_built_differently_are_equal_and_hash_alike() {
        let variants = [
            built(&["abcdef"]),
            built(&["", "abc", "", "def"]),
            built(&["a", "b", "c", "d", "e", "f"]),
            built(&["ab", "cdef", ""]),
        ];
        for x in &variants {
            assert_eq!(x.to_string(), "abcdef");
            assert!(x.equals_str("abcdef"));
            assert!(!x.equals_str("abcdeg") && !x.equals_str("abcde"));
            for y in &variants {
                assert_eq!(x, y);
                assert_eq!(hash_one(x), hash_one(y));
            }
        }
        assert_ne!(built(&["ab", "c"]), built(&["ab", "d"]));
        assert_ne!(built(&["ab", "c"]), built(&["a", "bc", "d"]));
        assert!(KvState::new("").is_empty() && KvState::new("").equals_str(""));
    }

    #[test]
    fn shared_prefixes_and_long_chains() {
        let base = built(&["x", "y", "z"]);
        let (left, right) = (base.appended("1").appended("2"), base.appended("12"));
        assert_eq!(left, right);
        assert_ne!(base.appended("1"), base.appended("2"));

        // Past MAX_DEPTH appends the chain is flattened; the value is unchanged.
        let mut long = KvState::new("");
        let mut expected = String::new();
        for i in 0..100 {
            let piece = format!("<{i}>");
            long = long.appended(&piece);
            expected.push_str(&piece);
            assert!(long.0.depth <= MAX_DEPTH);
        }
        assert!(long.equals_str(&expected));
        assert_eq!(long, KvState::new(&expected));
        assert_eq!(format!("{long:?}"), format!("{expected:?}"));
    }

    #[test]
    fn multibyte_text_compares_by_bytes_without_panicking() {
        let s = built(&["é", "ü"]);
        assert!(s.equals_str("éü"));
        assert!(!s.equals_str("üé"));
        assert_ne!(s, built(&["ü", "é"]));
        assert_eq!(s, built(&["éü"]));
    }
}

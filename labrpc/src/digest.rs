//! A running digest of a run's events, so determinism is checkable: same seed, same digest.
//!
//! FNV-1a over 64 bits: tiny, stable across Rust versions and platforms (unlike std's
//! `DefaultHasher`, whose algorithm is unspecified), and plenty to tell two runs apart.

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a 64-bit hash that events are folded into one field at a time.
#[derive(Debug, Clone)]
pub struct Digest {
    state: u64,
}

impl Digest {
    pub fn new() -> Digest {
        Digest {
            state: OFFSET_BASIS,
        }
    }

    /// Folds one field in. Each field is followed by its length, so ("ab","c") and ("a","bc")
    /// give different digests.
    pub fn add(&mut self, bytes: &[u8]) {
        for &b in bytes
            .iter()
            .chain((bytes.len() as u32).to_le_bytes().iter())
        {
            self.state ^= u64::from(b);
            self.state = self.state.wrapping_mul(PRIME);
        }
    }

    /// The digest as 16 lower-case hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.state)
    }
}

impl Default for Digest {
    fn default() -> Self {
        Digest::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Digest;

    #[test]
    fn field_boundaries_matter() {
        let mut a = Digest::new();
        a.add(b"ab");
        a.add(b"c");
        let mut b = Digest::new();
        b.add(b"a");
        b.add(b"bc");
        assert_ne!(a.hex(), b.hex());
    }

    #[test]
    fn same_input_same_digest() {
        let mut a = Digest::new();
        let mut b = Digest::new();
        for d in [&mut a, &mut b] {
            d.add(b"Raft.append_entries");
            d.add(&42u64.to_le_bytes());
        }
        assert_eq!(a.hex(), b.hex());
        assert_eq!(a.hex().len(), 16);
    }
}

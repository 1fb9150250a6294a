//! A running digest of a run's events, so determinism is checkable: same seed, same digest.
//!
//! A multiply-rotate hash over 64 bits, eight bytes at a time: tiny, stable across Rust
//! versions and platforms (unlike std's `DefaultHasher`, whose algorithm is unspecified), and
//! plenty to tell two runs apart. (It was FNV-1a, a byte at a time: every network event is
//! folded in, and at a multiply per byte the digest was 3 % of Lab 3's profile.)

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// The golden ratio's 64-bit fraction, odd: multiplying by it spreads every input bit upwards.
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// A 64-bit hash that events are folded into one field at a time.
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
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        self.mix(u64::from_le_bytes(tail));
        self.mix(bytes.len() as u64);
    }

    /// One word in: the rotation brings the product's well-mixed high bits down, so that
    /// the next word's low bits meet them.
    fn mix(&mut self, word: u64) {
        self.state = (self.state ^ word).wrapping_mul(MULTIPLIER).rotate_left(29);
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
    fn every_byte_matters() {
        let base = *b"Raft.append_entries";
        let digest_of = |bytes: &[u8]| {
            let mut d = Digest::new();
            d.add(bytes);
            d.hex()
        };
        let reference = digest_of(&base);
        for i in 0..base.len() {
            let mut changed = base;
            changed[i] ^= 1;
            assert_ne!(digest_of(&changed), reference, "byte {i} left no mark");
        }
        assert_ne!(digest_of(&base[..18]), reference);
        assert_ne!(digest_of(&[0; 3]), digest_of(&[0; 4]));
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

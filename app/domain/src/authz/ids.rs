//! A hash map keyed by database ids, with a multiplicative hash: ids are small trusted integers
//! chosen by the database, so SipHash's flooding defence buys nothing on this hot path.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i32(&mut self, i: i32) {
        // Fibonacci hashing spreads consecutive ids over the high bits the table probes with.
        self.0 = u64::from(i as u32).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// `HashMap` keyed by `i32` ids.
pub type IdMap<V> = HashMap<i32, V, BuildHasherDefault<IdHasher>>;

//! Test commands and the tests' randomness.
//!
//! Raft's commands are opaque bytes. The course's tests propose ints (and, once, strings);
//! here an int is its serde encoding, so a command is compared byte for byte and read back
//! with [`cmd_value`]. All randomness comes from the simulation's seeded generator.

use labrpc::{codec, sim};

/// A command as Raft sees it.
pub type Cmd = Vec<u8>;

/// The command for the int `x`.
pub fn cmd(x: u64) -> Cmd {
    codec::encode(&x).expect("an int encodes")
}

/// The int a command holds, if it holds one.
pub fn cmd_value(command: &[u8]) -> Option<u64> {
    codec::decode(command).ok()
}

/// Go's `rand.Int()`: a non-negative 63-bit int.
pub fn random_int() -> u64 {
    sim::random_range(0..1u64 << 63)
}

/// A command holding a random int.
pub fn random_cmd() -> Cmd {
    cmd(random_int())
}

/// A command, readably, for failure messages.
pub fn show(command: &[u8]) -> String {
    match cmd_value(command) {
        Some(x) => x.to_string(),
        None if command.len() <= 32 => format!("{:?}", String::from_utf8_lossy(command)),
        None => format!("<{} bytes>", command.len()),
    }
}

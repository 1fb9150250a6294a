//! What the service does: the operations a clerk asks for, and the commands that carry them
//! through the Raft log.
//!
//! A clerk sends an [`Op`] tagged with its client id and a per-client sequence number; the
//! server wraps the two into a [`Command`], encodes it, and hands the bytes to Raft. Every
//! replica decodes the same bytes at the same log index and feeds them to its
//! [`StateMachine`](rsm::StateMachine). The client id and sequence number are what make a
//! retried write take effect once (see [`rsm::Dedup`]).
//!
//! Given, in the handout too: shardkv (Lab 4) uses [`Op`], and [`Command`] is what
//! [`KvStore`](crate::KvStore) replicates.

use serde::{Deserialize, Serialize};

/// One key/value operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Read a key's value ("" if it was never written).
    Get { key: String },
    /// Replace a key's value.
    Put { key: String, value: String },
    /// Append to a key's value (to "" if it was never written).
    Append { key: String, value: String },
}

impl Op {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Append { key, .. } => key,
        }
    }

    /// Whether the operation changes the state (and so must take effect at most once).
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}

/// `get(k)`, `put(k,v)`, `append(k,v)`: how traces show an operation.
impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Get { key } => write!(f, "get({key})"),
            Op::Put { key, value } => write!(f, "put({key},{value})"),
            Op::Append { key, value } => write!(f, "append({key},{value})"),
        }
    }
}

/// An operation as it travels through the log: who asked for it, and which of that client's
/// requests it is. A clerk has one request outstanding at a time and numbers them 1, 2, 3…,
/// so a replica that has applied request `seq` of a client has applied all earlier ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub client: u64,
    pub seq: u64,
    pub op: Op,
}

/// `append(k,v) from 42#7`: the operation, its client and request number.
impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from {}#{}", self.op, self.client, self.seq)
    }
}
// BEGIN SOLUTION 3A

impl Command {
    /// The bytes Raft stores for this command.
    pub fn encode(&self) -> Vec<u8> {
        // Strings and integers always encode; a failure here would be a bug in bincode.
        labrpc::codec::encode(self).expect("a command always encodes")
    }

    /// Decodes a command from a log entry; bytes no server could have written are an error.
    pub fn decode(bytes: &[u8]) -> Result<Command, labrpc::RpcError> {
        labrpc::codec::decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_and_garbage_is_an_error() {
        let cmd = Command {
            client: u64::MAX,
            seq: 7,
            op: Op::Append {
                key: "k".into(),
                value: "x 1 2 y".into(),
            },
        };
        assert_eq!(Command::decode(&cmd.encode()).unwrap(), cmd);
        assert!(Command::decode(&[0xff; 3]).is_err());
        assert!(Command::decode(&[]).is_err());
        assert!(cmd.op.is_write() && !Op::Get { key: "k".into() }.is_write());
    }
}
// END SOLUTION

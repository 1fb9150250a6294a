//! What a call can come back with instead of a reply.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a call returned no reply. The course's `Call` returns a bare `false`; the variants say
/// why, but a lab must treat every one of them the same way: the call may or may not have been
/// executed, and it is the caller's job to retry.
///
/// It travels between processes too (the TCP network carries a server's error back to the
/// caller), hence serde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RpcError {
    /// The request or the reply was lost: dropped by an unreliable network, sent on a disabled
    /// or unconnected end, to a deleted server, or the network was cleaned up; over TCP, the
    /// peer could not be reached, the connection broke, or no reply came within the timeout.
    Lost,
    /// The bytes on the wire did not decode as the expected type (request or reply).
    Decode(String),
    /// The arguments or reply could not be encoded.
    Encode(String),
    /// The server has no such service or method.
    UnknownMethod(String),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Lost => f.write_str("the call was lost (no reply)"),
            RpcError::Decode(m) => write!(f, "undecodable message: {m}"),
            RpcError::Encode(m) => write!(f, "unencodable message: {m}"),
            RpcError::UnknownMethod(m) => write!(f, "no such service method: {m}"),
        }
    }
}

impl std::error::Error for RpcError {}

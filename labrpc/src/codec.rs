//! The wire format: serde + bincode, for every call's arguments and reply.
//!
//! Encoding on every call keeps the course's guarantee that no state is shared by reference
//! between peers, and makes the byte counts real. A size limit stops a corrupt length prefix
//! from asking for gigabytes: garbage becomes a [`RpcError::Decode`], never an abort.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::RpcError;

/// The largest message a peer will decode.
const MAX_MESSAGE: usize = 256 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_MESSAGE>()
}

/// Encodes a value as it travels on the wire.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, RpcError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| RpcError::Encode(e.to_string()))
}

/// Decodes a value from the wire. Trailing bytes are an error: they mean the two sides
/// disagree about the type.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RpcError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| RpcError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(RpcError::Decode(format!(
            "{} trailing bytes after the message",
            bytes.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = (7u64, String::from("x"), vec![1u8, 2, 3]);
        let bytes = encode(&v).unwrap();
        assert_eq!(decode::<(u64, String, Vec<u8>)>(&bytes).unwrap(), v);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode::<String>(&[0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(RpcError::Decode(_))
        ));
        assert!(matches!(
            decode::<(u64, u64)>(&[1]),
            Err(RpcError::Decode(_))
        ));
        let bytes = encode(&(1u8, 2u8)).unwrap();
        assert!(matches!(decode::<u8>(&bytes), Err(RpcError::Decode(_))));
    }
}

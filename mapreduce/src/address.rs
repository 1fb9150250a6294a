//! Where the coordinator listens and workers connect: a Unix socket path or a TCP `host:port`.
//!
//! By default both sides use a Unix socket named after the user, as the course does
//! (`/var/tmp/5840-mr-<uid>`), so two users on one machine do not collide. A TCP address lets
//! workers run on other machines (which then need the same files, say on a shared file system).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A coordinator address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A Unix domain socket at this path.
    Unix(PathBuf),
    /// A TCP `host:port` (`127.0.0.1:7000`, `[::1]:7000`, `node3:7000`; port 0 for any).
    Tcp(String),
}

impl Address {
    /// The course's default: `/var/tmp/5840-mr-<uid>`.
    pub fn default_unix() -> Address {
        Address::Unix(PathBuf::from(format!("/var/tmp/5840-mr-{}", user_id())))
    }
}

/// The user's id, for the default socket name. Linux's `/proc/self` is owned by the process's
/// user, which spares us an `unsafe` `getuid()`; elsewhere fall back to the user name.
fn user_id() -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(metadata) => metadata.uid().to_string(),
        Err(_) => std::env::var("USER").unwrap_or_else(|_| "nobody".to_string()),
    }
}

impl FromStr for Address {
    type Err = String;

    /// Anything containing a `/` is a socket path; otherwise `host:port` with a numeric port is
    /// TCP, and any other name is a socket path relative to the current directory.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err("empty address".to_string());
        }
        if !text.contains('/') {
            if let Some((host, port)) = text.rsplit_once(':') {
                if !host.is_empty() && port.parse::<u16>().is_ok() {
                    return Ok(Address::Tcp(text.to_string()));
                }
            }
        }
        Ok(Address::Unix(PathBuf::from(text)))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "{}", path.display()),
            Address::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_and_tcp() {
        let unix = |p: &str| Address::Unix(PathBuf::from(p));
        assert_eq!("/tmp/mr.sock".parse(), Ok(unix("/tmp/mr.sock")));
        assert_eq!("mr.sock".parse(), Ok(unix("mr.sock")));
        assert_eq!("./a:1".parse(), Ok(unix("./a:1")));
        assert_eq!(
            "127.0.0.1:7000".parse(),
            Ok(Address::Tcp("127.0.0.1:7000".into()))
        );
        assert_eq!("[::1]:0".parse(), Ok(Address::Tcp("[::1]:0".into())));
        assert_eq!("host:notaport".parse(), Ok(unix("host:notaport")));
        assert!("".parse::<Address>().is_err());
    }

    #[test]
    fn default_is_per_user() {
        let Address::Unix(path) = Address::default_unix() else {
            panic!("default must be a Unix socket")
        };
        assert!(path.to_string_lossy().starts_with("/var/tmp/5840-mr-"));
    }
}

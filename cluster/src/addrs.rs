//! Address lists from the command line: `host:port,host:port,...`.
//!
//! Every address is checked before anything starts, so a typo is a clear error naming the
//! address rather than a server that retries an unreachable peer for ever.

use std::net::ToSocketAddrs;

/// Splits `list` at commas and checks each address resolves (`host:port`, a name or an IP).
/// `what` names the list in errors ("--peers").
pub fn parse_list(list: &str, what: &str) -> Result<Vec<String>, String> {
    let addrs: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(String::from)
        .collect();
    if addrs.is_empty() {
        return Err(format!("{what}: no address given"));
    }
    for (i, addr) in addrs.iter().enumerate() {
        check(addr).map_err(|e| format!("{what}: {e}"))?;
        if addrs[..i].contains(addr) {
            return Err(format!("{what}: {addr} is listed twice"));
        }
    }
    Ok(addrs)
}

/// Checks that `addr` is a `host:port` that resolves.
pub fn check(addr: &str) -> Result<(), String> {
    match addr.to_socket_addrs().map(|mut resolved| resolved.next()) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!("{addr:?} resolves to no address")),
        Err(e) => Err(format!("{addr:?} is not a host:port address ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ips_and_names() {
        let list = parse_list("127.0.0.1:7000, localhost:7001", "--peers").unwrap();
        assert_eq!(list, ["127.0.0.1:7000", "localhost:7001"]);
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "",
            ",",
            "127.0.0.1",
            "127.0.0.1:99999",
            "a b:1",
            "1.2.3.4:x",
        ] {
            let error = parse_list(bad, "--peers").unwrap_err();
            assert!(error.starts_with("--peers: "), "{bad:?}: {error}");
        }
        let twice = parse_list("127.0.0.1:1,127.0.0.1:1", "--peers").unwrap_err();
        assert!(twice.contains("listed twice"), "{twice}");
    }
}

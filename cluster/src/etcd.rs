//! A minimal etcd client, for measuring etcd beside our service with the same benchmark.
//!
//! etcd serves its v3 API as JSON over HTTP too (its gRPC gateway: `POST /v3/kv/put` and
//! `/v3/kv/range`, keys and values in base64). That is all a Put/Get benchmark needs, so this
//! speaks it over one kept-alive HTTP/1.1 connection per client with nothing but tokio, where
//! an etcd client crate would bring a gRPC stack along for two calls. A request goes to the
//! endpoints in turn until one answers (etcd forwards writes to its leader itself).

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A client of an etcd cluster at `endpoints` (host:port of each member's client URL).
pub struct Etcd {
    endpoints: Vec<String>,
    next: usize,
    conn: Option<BufReader<TcpStream>>,
}

impl Etcd {
    pub fn new(endpoints: Vec<String>) -> Etcd {
        Etcd {
            endpoints,
            next: 0,
            conn: None,
        }
    }

    pub async fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        let body = json!({ "key": base64(key.as_bytes()), "value": base64(value.as_bytes()) });
        self.call("/v3/kv/put", &body).await.map(|_| ())
    }

    /// The value of `key`, "" if it has none.
    pub async fn get(&mut self, key: &str) -> Result<String, String> {
        let body = json!({ "key": base64(key.as_bytes()) });
        let reply = self.call("/v3/kv/range", &body).await?;
        let Some(value) = reply["kvs"][0]["value"].as_str() else {
            return Ok(String::new());
        };
        let bytes = unbase64(value).ok_or("etcd sent a value that is not base64")?;
        String::from_utf8(bytes).map_err(|_| "etcd sent a value that is not UTF-8".into())
    }

    /// Sends `body` to `path`, retrying on the next endpoint until one answers, with a pause
    /// after each full round.
    async fn call(&mut self, path: &str, body: &Value) -> Result<Value, String> {
        let body = body.to_string();
        let mut last_error = String::new();
        for round in 0..20 {
            for _ in 0..self.endpoints.len() {
                match self.try_call(path, &body).await {
                    Ok(reply) => return Ok(reply),
                    Err(e) => {
                        last_error = e;
                        self.conn = None;
                        self.next = (self.next + 1) % self.endpoints.len();
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50 * (round + 1))).await;
        }
        Err(format!("etcd did not answer: {last_error}"))
    }

    async fn try_call(&mut self, path: &str, body: &str) -> Result<Value, String> {
        let endpoint = &self.endpoints[self.next];
        if self.conn.is_none() {
            let stream = TcpStream::connect(endpoint)
                .await
                .map_err(|e| format!("{endpoint}: {e}"))?;
            stream.set_nodelay(true).ok();
            self.conn = Some(BufReader::new(stream));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let io = |e: std::io::Error| format!("{endpoint}: {e}");
        conn.get_mut()
            .write_all(request.as_bytes())
            .await
            .map_err(io)?;

        let mut status = String::new();
        conn.read_line(&mut status).await.map_err(io)?;
        let code = status.split_whitespace().nth(1).unwrap_or("");
        let (mut length, mut chunked) = (None, false);
        loop {
            let mut header = String::new();
            if conn.read_line(&mut header).await.map_err(io)? == 0 {
                return Err(format!("{endpoint}: connection closed"));
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                _ => {}
            }
        }
        let mut reply = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                conn.read_line(&mut size).await.map_err(io)?;
                let size = usize::from_str_radix(size.trim(), 16)
                    .map_err(|_| format!("{endpoint}: bad chunk size"))?;
                let mut chunk = vec![0; size + 2];
                conn.read_exact(&mut chunk).await.map_err(io)?;
                if size == 0 {
                    break;
                }
                reply.extend_from_slice(&chunk[..size]);
            }
        } else {
            let length = length.ok_or_else(|| format!("{endpoint}: reply without a length"))?;
            reply.resize(length, 0);
            conn.read_exact(&mut reply).await.map_err(io)?;
        }
        if code != "200" {
            return Err(format!(
                "{endpoint}: HTTP {code}: {}",
                String::from_utf8_lossy(&reply)
            ));
        }
        serde_json::from_slice(&reply).map_err(|e| format!("{endpoint}: undecodable reply: {e}"))
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0, |n, (i, d)| n | d << (18 - 6 * i));
        for i in 0..group.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
            assert_eq!(unbase64(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(unbase64("Zm9v!"), None);
    }
}

//! A closed-loop benchmark: N clients, each issuing its next operation as soon as the last one
//! returns, for a fixed time; throughput and latency percentiles over every operation.
//!
//! The clients themselves are the caller's (a clerk of ours, or an etcd client), so the same
//! measurement serves both and their figures compare like for like.

use std::future::Future;
use std::time::{Duration, Instant};

/// What one benchmark run measured.
#[derive(Clone, Debug)]
pub struct Figures {
    pub clients: usize,
    pub ops: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Figures {
    pub fn ops_per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{:>3} client(s): {} ops in {:.1} s = {:.0} ops/s, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
            self.clients,
            self.ops,
            self.elapsed.as_secs_f64(),
            self.ops_per_second(),
            ms(self.p50),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// Runs `clients` copies of `client(i, until)`, each returning the latency of every operation
/// it completed before `until`, and sums them up. Any client's error ends the benchmark with
/// that error.
pub async fn run<F, Fut>(clients: usize, duration: Duration, client: F) -> Result<Figures, String>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = Result<Vec<Duration>, String>> + Send + 'static,
{
    let start = Instant::now();
    let until = start + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(i, until)))
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        let done = task
            .await
            .map_err(|e| format!("a client task failed: {e}"))?;
        latencies.extend(done?);
    }
    let elapsed = start.elapsed();
    Ok(figures(clients, latencies, elapsed))
}

fn figures(clients: usize, mut latencies: Vec<Duration>, elapsed: Duration) -> Figures {
    latencies.sort_unstable();
    let at = |q: f64| {
        if latencies.is_empty() {
            Duration::ZERO
        } else {
            latencies[((latencies.len() - 1) as f64 * q).round() as usize]
        }
    };
    Figures {
        clients,
        ops: latencies.len(),
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let f = figures(2, lat, Duration::from_secs(2));
        assert_eq!(f.ops, 100);
        assert_eq!(f.ops_per_second(), 50.0);
        assert_eq!(f.p50, Duration::from_millis(51));
        assert_eq!(f.p99, Duration::from_millis(99));
        assert_eq!(f.max, Duration::from_millis(100));
    }
}

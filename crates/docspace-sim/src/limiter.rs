//! DocSpace's chained global rate limiter (docspace-api.md §12), partitioned by user
//! (or client address when anonymous): a sliding window of N requests per minute,
//! at most M concurrent GETs and K concurrent other requests (no queueing), and a
//! fixed daily window of POST + PUT requests. A rejection is a 429 with an empty body.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Config;

const WINDOW: Duration = Duration::from_secs(60);

/// Why a request was rejected, with the headers the real limiter sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`, `Retry-After`.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Default)]
struct Partition {
    window: VecDeque<Instant>,
    reads: u32,
    writes: u32,
    day: i64,
    day_writes: u32,
}

pub struct Limiter {
    per_minute: u32,
    max_reads: u32,
    max_writes: u32,
    daily_writes: u32,
    partitions: Mutex<HashMap<String, Partition>>,
}

/// A granted request; dropping it releases its concurrency slot.
pub struct Permit<'a> {
    limiter: &'a Limiter,
    key: String,
    write: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Ok(mut partitions) = self.limiter.partitions.lock()
            && let Some(p) = partitions.get_mut(&self.key)
        {
            if self.write {
                p.writes = p.writes.saturating_sub(1);
            } else {
                p.reads = p.reads.saturating_sub(1);
            }
        }
    }
}

impl Limiter {
    pub fn new(config: &Config) -> Self {
        Self {
            per_minute: config.rate_limit_per_minute,
            max_reads: config.max_concurrent_reads,
            max_writes: config.max_concurrent_writes,
            daily_writes: config.daily_write_limit,
            partitions: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Admits or rejects one request of `method` from partition `key`.
    pub fn admit(&self, key: &str, method: &str) -> Result<Permit<'_>, Rejection> {
        let now = Instant::now();
        let today = jiff::Timestamp::now().as_second().div_euclid(86_400);
        let write = method != "GET" && method != "HEAD";
        let counts_daily = method == "POST" || method == "PUT";
        let mut partitions = self.partitions.lock().expect("limiter lock");
        let p = partitions.entry(key.to_owned()).or_default();

        // 1. Sliding window.
        while p
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            p.window.pop_front();
        }
        if p.window.len() as u32 >= self.per_minute {
            let oldest = *p.window.front().expect("a full window has entries");
            let retry = (WINDOW - now.duration_since(oldest))
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64;
            return Err(Rejection {
                headers: vec![
                    ("X-RateLimit-Limit", self.per_minute.to_string()),
                    ("X-RateLimit-Remaining", "0".into()),
                    ("X-RateLimit-Reset", retry.to_string()),
                    ("Retry-After", retry.to_string()),
                ],
            });
        }
        p.window.push_back(now);

        // 2. Concurrency, without queueing and without headers.
        let (in_flight, cap) = if write {
            (p.writes, self.max_writes)
        } else {
            (p.reads, self.max_reads)
        };
        if in_flight >= cap {
            return Err(Rejection {
                headers: Vec::new(),
            });
        }

        // 3. Fixed daily window of POST + PUT.
        if counts_daily {
            if p.day != today {
                p.day = today;
                p.day_writes = 0;
            }
            if p.day_writes >= self.daily_writes {
                let reset = (today + 1) * 86_400 - jiff::Timestamp::now().as_second();
                return Err(Rejection {
                    headers: vec![
                        ("X-RateLimit-Limit", self.daily_writes.to_string()),
                        ("X-RateLimit-Remaining", "0".into()),
                        ("X-RateLimit-Reset", reset.to_string()),
                        ("Retry-After", reset.to_string()),
                    ],
                });
            }
            p.day_writes += 1;
        }

        if write {
            p.writes += 1;
        } else {
            p.reads += 1;
        }
        Ok(Permit {
            limiter: self,
            key: key.to_owned(),
            write,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_minute: u32, reads: u32, writes: u32, daily: u32) -> Limiter {
        Limiter::new(&Config {
            rate_limit_per_minute: per_minute,
            max_concurrent_reads: reads,
            max_concurrent_writes: writes,
            daily_write_limit: daily,
            ..Config::default()
        })
    }

    #[test]
    fn the_window_rejects_once_spent_with_retry_after() {
        let l = limiter(3, 10, 10, 100);
        for _ in 0..3 {
            drop(l.admit("u", "GET").unwrap());
        }
        let rejection = l.admit("u", "GET").err().unwrap();
        let retry = rejection
            .headers
            .iter()
            .find(|(k, _)| *k == "Retry-After")
            .unwrap();
        assert!(retry.1.parse::<u64>().unwrap() >= 1);
        // Another user has a window of their own.
        assert!(l.admit("v", "GET").is_ok());
    }

    #[test]
    fn concurrency_caps_reads_and_writes_separately() {
        let l = limiter(100, 2, 1, 100);
        let _a = l.admit("u", "GET").unwrap();
        let _b = l.admit("u", "GET").unwrap();
        assert!(l.admit("u", "GET").is_err());
        let w = l.admit("u", "PUT").unwrap();
        assert_eq!(l.admit("u", "DELETE").err().unwrap().headers, vec![]);
        drop(w);
        assert!(l.admit("u", "DELETE").is_ok());
    }

    #[test]
    fn the_daily_window_counts_post_and_put_only() {
        let l = limiter(100, 10, 10, 2);
        drop(l.admit("u", "POST").unwrap());
        drop(l.admit("u", "DELETE").unwrap());
        drop(l.admit("u", "PUT").unwrap());
        assert!(l.admit("u", "PUT").is_err());
        assert!(l.admit("u", "DELETE").is_ok());
    }
}

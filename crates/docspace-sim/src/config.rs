//! The simulator's settings: listen address, limiter, faults, job timing, seed.
//! Every field is also a flag of `offboard sim` (see the `offboard` CLI).

use std::net::SocketAddr;
use std::time::Duration;

/// How the simulator behaves. `Default` is the real DocSpace limiter with no faults.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Requests per sliding minute per user; 0 turns the whole limiter off.
    pub rate_limit_per_minute: u32,
    pub max_concurrent_reads: u32,
    pub max_concurrent_writes: u32,
    /// POST + PUT per user per day.
    pub daily_write_limit: u32,
    /// How long a reassign, remove or file operation takes to finish.
    pub job_duration: Duration,
    /// How long a finished job or operation record is kept after its last update
    /// (~60 s on the real server).
    pub record_ttl: Duration,
    pub seed: u64,
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limit_per_minute: 1500,
            max_concurrent_reads: 50,
            max_concurrent_writes: 15,
            daily_write_limit: 10_000,
            job_duration: Duration::from_secs(2),
            record_ttl: Duration::from_secs(60),
            seed: 1,
            faults: Faults::default(),
        }
    }
}

impl Config {
    /// A configuration for tests: limiter off, fast jobs, no faults.
    pub fn for_tests() -> Self {
        Self {
            rate_limit_per_minute: 0,
            job_duration: Duration::from_millis(200),
            ..Self::default()
        }
    }
}

/// Seeded fault injection: probabilities per request or per job, and added latency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub status_429: f64,
    pub status_500: f64,
    pub status_502: f64,
    pub status_503: f64,
    pub drop: f64,
    pub latency: Option<(Duration, Duration)>,
    pub job_fail: f64,
    pub job_stuck: f64,
    /// File operations that end "completed" with no error and no effect: what
    /// `FileOperation.RunJob` (products/ASC.Files/Core/Services/WCFService/
    /// FileOperations/FileOperation.cs) makes of an unexpected exception, which it
    /// only logs. Reassign jobs report their failures and ignore it.
    pub job_silent: f64,
}

impl Faults {
    /// Parses `429=0.05,500=0.03,502=0.01,503=0.01,drop=0.01,latency=5ms..40ms,job-fail=0.02,job-stuck=0.01`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut faults = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("fault `{item}` needs a value, as in `500=0.03`"))?;
            let probability = || -> Result<f64, String> {
                let p: f64 = value
                    .parse()
                    .map_err(|_| format!("fault `{name}`: `{value}` is not a probability"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(format!("fault `{name}`: {p} is not between 0 and 1"))
                }
            };
            match name {
                "429" => faults.status_429 = probability()?,
                "500" => faults.status_500 = probability()?,
                "502" => faults.status_502 = probability()?,
                "503" => faults.status_503 = probability()?,
                "drop" => faults.drop = probability()?,
                "job-fail" => faults.job_fail = probability()?,
                "job-stuck" => faults.job_stuck = probability()?,
                "job-silent" => faults.job_silent = probability()?,
                "latency" => {
                    let (low, high) = value.split_once("..").unwrap_or((value, value));
                    let low = parse_duration(low)?;
                    let high = parse_duration(high)?;
                    if high < low {
                        return Err(format!(
                            "latency `{value}`: the upper bound is below the lower"
                        ));
                    }
                    faults.latency = Some((low, high));
                }
                other => {
                    return Err(format!(
                        "unknown fault `{other}`; known: 429, 500, 502, 503, drop, latency, job-fail, job-stuck, job-silent"
                    ));
                }
            }
        }
        Ok(faults)
    }

    pub fn any_request_fault(&self) -> bool {
        self.status_429 + self.status_500 + self.status_502 + self.status_503 + self.drop > 0.0
            || self.latency.is_some()
    }
}

/// Parses `250ms`, `2s`, `1m`, `1.5s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("duration `{text}` needs a unit: ms, s or m"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("duration `{text}`: `{number}` is not a number"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        _ => {
            return Err(format!(
                "duration `{text}`: unknown unit `{unit}` (ms, s, m)"
            ));
        }
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("duration `{text}` must not be negative"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse() {
        let f = Faults::parse("429=0.05,500=0.03,502=0.01,503=0.01,drop=0.01,latency=5ms..40ms,job-fail=0.02,job-stuck=0.01").unwrap();
        assert_eq!(f.status_429, 0.05);
        assert_eq!(
            f.latency,
            Some((Duration::from_millis(5), Duration::from_millis(40)))
        );
        assert_eq!(f.job_stuck, 0.01);
        assert!(
            Faults::parse("404=0.1")
                .unwrap_err()
                .contains("unknown fault")
        );
        assert!(
            Faults::parse("500=2")
                .unwrap_err()
                .contains("between 0 and 1")
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("5").is_err());
    }
}

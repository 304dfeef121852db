//! Fault injection: rate limits as providers enforce them, errors, hangs,
//! streams cut mid-way and slow tails — seeded, so a run can be reproduced.
//!
//! Each service numbers its requests; request `n`'s faults and latency are
//! drawn from a generator seeded with `(seed, service, n)`. A sequential
//! client therefore sees exactly the same faults on every run, and a
//! concurrent one sees the same number of them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::MockError;
use crate::rng::{Rng, hash_parts};

/// A hang long enough that any sane client times out first.
const DEFAULT_HANG_MS: f64 = 600_000.0;
const DEFAULT_SLOW_MS: f64 = 10_000.0;
const DEFAULT_LIMIT_WINDOW_S: f64 = 60.0;

/// Faults for one service (llm, search or web).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceFaults {
    /// Requests per minute per model (token bucket); over it: 429.
    pub rpm: Option<f64>,
    /// Tokens per minute per model, counting prompt plus max_tokens as
    /// OpenAI does; over it: 429.
    pub tpm: Option<f64>,
    /// The seconds of `rpm` and `tpm` a bucket holds: 60 (the default)
    /// lets a full minute's allowance go in one burst; 1 enforces the
    /// limit a second at a time, as providers may ("60,000 requests/minute
    /// may be enforced as 1,000 requests/second"), so 429s start as soon
    /// as the rate passes `rpm / 60`.
    pub limit_window_s: f64,
    /// Fraction of requests answered with a 5xx.
    pub error_rate: f64,
    /// Fraction of requests that stall for `hang_ms`, then get a 504.
    pub hang_rate: f64,
    pub hang_ms: f64,
    /// Fraction of streams cut at a random point, without `[DONE]`.
    pub cut_rate: f64,
    /// Fraction of requests delayed by an extra `slow_ms` (a slow tail).
    pub slow_rate: f64,
    pub slow_ms: f64,
}

impl Default for ServiceFaults {
    fn default() -> Self {
        ServiceFaults {
            rpm: None,
            tpm: None,
            limit_window_s: DEFAULT_LIMIT_WINDOW_S,
            error_rate: 0.0,
            hang_rate: 0.0,
            hang_ms: DEFAULT_HANG_MS,
            cut_rate: 0.0,
            slow_rate: 0.0,
            slow_ms: DEFAULT_SLOW_MS,
        }
    }
}

/// Every fault setting; `genbench mock --faults` builds one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub llm: ServiceFaults,
    #[serde(default)]
    pub search: ServiceFaults,
    #[serde(default)]
    pub web: ServiceFaults,
}

impl Faults {
    /// `spec` is a TOML file path, or comma-separated `key=value` pairs such
    /// as `rpm=60,error_rate=0.02,search.slow_rate=0.01`; keys without a
    /// `search.`/`web.` prefix apply to the LLM.
    pub fn parse_spec(spec: &str) -> Result<Self, MockError> {
        let path = std::path::Path::new(spec);
        if !spec.contains('=') || path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| MockError::Config {
                origin: spec.to_string(),
                message: format!(
                    "cannot read faults file ({e}); pass a TOML file or key=value pairs \
                     like `rpm=60,error_rate=0.02`"
                ),
            })?;
            return Self::parse_toml(&text, spec);
        }
        let mut doc = String::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| MockError::Config {
                origin: "--faults".into(),
                message: format!("`{pair}` is not key=value, e.g. `error_rate=0.02`"),
            })?;
            let k = k.trim();
            let key = if k.starts_with("llm.") || k.starts_with("search.") || k.starts_with("web.")
            {
                k.to_string()
            } else {
                format!("llm.{k}")
            };
            doc.push_str(&format!("{key} = {}\n", v.trim()));
        }
        Self::parse_toml(&doc, "--faults")
    }

    pub fn parse_toml(text: &str, origin: &str) -> Result<Self, MockError> {
        let f: Faults = toml::from_str(text).map_err(|e| MockError::Config {
            origin: origin.to_string(),
            message: format!(
                "{e}\nknown keys: rpm, tpm, limit_window_s, error_rate, hang_rate, hang_ms, cut_rate, \
                 slow_rate, slow_ms (prefix search. or web. for those services)"
            ),
        })?;
        f.validate(origin)?;
        Ok(f)
    }

    fn validate(&self, origin: &str) -> Result<(), MockError> {
        for (svc, s) in [
            ("llm", &self.llm),
            ("search", &self.search),
            ("web", &self.web),
        ] {
            let rates = [
                ("error_rate", s.error_rate),
                ("hang_rate", s.hang_rate),
                ("cut_rate", s.cut_rate),
                ("slow_rate", s.slow_rate),
            ];
            for (name, v) in rates {
                if !(0.0..=1.0).contains(&v) {
                    return Err(MockError::Config {
                        origin: origin.into(),
                        message: format!(
                            "{svc}.{name} = {v}: a rate is a fraction between 0 and 1"
                        ),
                    });
                }
            }
            if s.error_rate + s.hang_rate > 1.0 {
                return Err(MockError::Config {
                    origin: origin.into(),
                    message: format!("{svc}: error_rate + hang_rate exceed 1"),
                });
            }
            for (name, v) in [("rpm", s.rpm), ("tpm", s.tpm)] {
                if v.is_some_and(|v| v <= 0.0 || !v.is_finite()) {
                    return Err(MockError::Config {
                        origin: origin.into(),
                        message: format!("{svc}.{name} must be a positive number per minute"),
                    });
                }
            }
            if !(s.limit_window_s > 0.0 && s.limit_window_s <= 60.0) {
                return Err(MockError::Config {
                    origin: origin.into(),
                    message: format!(
                        "{svc}.limit_window_s = {}: the seconds of rpm and tpm a bucket holds, above 0 and at most 60 (1: enforced a second at a time)",
                        s.limit_window_s
                    ),
                });
            }
            for (name, v) in [("hang_ms", s.hang_ms), ("slow_ms", s.slow_ms)] {
                if v < 0.0 || !v.is_finite() {
                    return Err(MockError::Config {
                        origin: origin.into(),
                        message: format!("{svc}.{name} must be a non-negative number of ms"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Which service a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Llm,
    Embeddings,
    Search,
    Web,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Llm => "llm",
            Service::Embeddings => "embeddings",
            Service::Search => "search",
            Service::Web => "web",
        }
    }
}

/// What happens to one request, decided when it arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fate {
    Normal,
    /// Answer with this 5xx status.
    Error(u16),
    /// Stall this long, then answer 504.
    Hang {
        ms: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub fate: Fate,
    /// Extra latency before the first byte or token.
    pub extra_ms: f64,
    /// For streams: stop after this fraction of the tokens, without `[DONE]`.
    pub cut_at: Option<f64>,
}

/// A token bucket refilled continuously, as provider rate limits behave.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    level: f64,
    per_s: f64,
    last: Instant,
}

impl Bucket {
    /// `limit` a minute, holding `window_s` seconds of it.
    fn per_minute(limit: f64, window_s: f64, now: Instant) -> Self {
        let capacity = limit * window_s / 60.0;
        Bucket {
            capacity,
            level: capacity,
            per_s: limit / 60.0,
            last: now,
        }
    }

    fn per_second(limit: f64, now: Instant) -> Self {
        Bucket {
            capacity: limit,
            level: limit,
            per_s: limit,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.level = (self.level + dt * self.per_s).min(self.capacity);
        self.last = now;
    }

    /// Seconds until `n` would fit; `None` when it never can.
    fn wait_s(&self, n: f64) -> Option<f64> {
        if n > self.capacity {
            None
        } else if self.level >= n {
            Some(0.0)
        } else {
            Some((n - self.level) / self.per_s)
        }
    }
}

/// Why a request was refused by a rate limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limited {
    /// "requests" or "tokens".
    pub what: &'static str,
    pub limit: f64,
    pub requested: f64,
    /// `None`: the request alone exceeds the limit and can never pass.
    pub retry_after_s: Option<u64>,
}

#[derive(Debug, Default)]
struct Buckets {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
}

/// Runtime state: request counters and rate-limit buckets.
#[derive(Debug)]
pub struct FaultState {
    seed: u64,
    faults: Faults,
    seq: [AtomicU64; 4],
    buckets: Mutex<HashMap<(Service, String), Buckets>>,
}

impl FaultState {
    pub fn new(seed: u64, faults: Faults) -> Self {
        FaultState {
            seed,
            faults,
            seq: Default::default(),
            buckets: Mutex::default(),
        }
    }

    pub fn config(&self) -> &Faults {
        &self.faults
    }

    fn service(&self, s: Service) -> &ServiceFaults {
        match s {
            Service::Llm | Service::Embeddings => &self.faults.llm,
            Service::Search => &self.faults.search,
            Service::Web => &self.faults.web,
        }
    }

    /// The generator for this service's next request.
    pub fn next_rng(&self, s: Service) -> Rng {
        let n = self.seq[s as usize].fetch_add(1, Ordering::Relaxed);
        Rng::new(hash_parts(self.seed, &[s.name(), &n.to_string()]))
    }

    /// Draws this request's faults from its generator.
    pub fn decide(&self, s: Service, rng: &mut Rng) -> Decision {
        let f = self.service(s);
        // Draw every variable every time so that changing one rate does not
        // shift which requests get the other faults.
        let (u_fate, u_code, u_slow, u_cut, u_cut_at) =
            (rng.unit(), rng.below(3), rng.unit(), rng.unit(), rng.unit());
        let fate = if u_fate < f.error_rate {
            Fate::Error([500, 502, 503][u_code as usize])
        } else if u_fate < f.error_rate + f.hang_rate {
            Fate::Hang { ms: f.hang_ms }
        } else {
            Fate::Normal
        };
        Decision {
            fate,
            extra_ms: if u_slow < f.slow_rate { f.slow_ms } else { 0.0 },
            cut_at: (u_cut < f.cut_rate).then_some(u_cut_at),
        }
    }

    /// Takes one request and `tokens` tokens from `key`'s buckets, or says
    /// why not. `rps` is a per-second request limit of the provider preset.
    pub fn admit(
        &self,
        s: Service,
        key: &str,
        tokens: f64,
        rps: Option<f64>,
    ) -> Result<(), Limited> {
        let f = self.service(s);
        let (rpm, tpm, window) = (f.rpm, f.tpm, f.limit_window_s);
        if rpm.is_none() && tpm.is_none() && rps.is_none() {
            return Ok(());
        }
        let now = Instant::now();
        let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = all.entry((s, key.to_string())).or_insert_with(|| Buckets {
            requests: rps
                .map(|r| Bucket::per_second(r, now))
                .or_else(|| rpm.map(|r| Bucket::per_minute(r, window, now))),
            tokens: tpm.map(|t| Bucket::per_minute(t, window, now)),
        });
        let checks = [
            (&mut b.requests, "requests", 1.0),
            (&mut b.tokens, "tokens", tokens),
        ];
        let mut refusals = Vec::new();
        for (bucket, what, n) in checks {
            if let Some(bucket) = bucket {
                bucket.refill(now);
                match bucket.wait_s(n) {
                    Some(w) if w <= 0.0 => {}
                    w => refusals.push(Limited {
                        what,
                        limit: bucket.capacity,
                        requested: n,
                        retry_after_s: w.map(|w| w.ceil().max(1.0) as u64),
                    }),
                }
            }
        }
        if let Some(first) = refusals.into_iter().next() {
            return Err(first);
        }
        if let Some(r) = b.requests.as_mut() {
            r.level -= 1.0;
        }
        if let Some(t) = b.tokens.as_mut() {
            t.level -= tokens;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_pairs_default_to_llm_and_accept_prefixes() {
        let f = Faults::parse_spec("rpm=60, error_rate=0.02,search.slow_rate=0.5").unwrap();
        assert_eq!(f.llm.rpm, Some(60.0));
        assert_eq!(f.llm.error_rate, 0.02);
        assert_eq!(f.search.slow_rate, 0.5);
        assert_eq!(f.llm.hang_ms, DEFAULT_HANG_MS);
    }

    #[test]
    fn bad_specs_say_what_to_do() {
        let e = Faults::parse_spec("error_rate=2").unwrap_err().to_string();
        assert!(e.contains("between 0 and 1"), "{e}");
        let e = Faults::parse_spec("eror_rate=0.1").unwrap_err().to_string();
        assert!(e.contains("known keys"), "{e}");
        let e = Faults::parse_spec("/no/such/faults.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read faults file"), "{e}");
        let e = Faults::parse_spec("rpm=0").unwrap_err().to_string();
        assert!(e.contains("positive"), "{e}");
    }

    #[test]
    fn toml_file_form() {
        let f = Faults::parse_toml("[llm]\ncut_rate = 0.1\n[web]\nhang_rate = 0.2\n", "f.toml")
            .unwrap();
        assert_eq!(f.llm.cut_rate, 0.1);
        assert_eq!(f.web.hang_rate, 0.2);
    }

    #[test]
    fn same_seed_same_faults() {
        let faults =
            Faults::parse_spec("error_rate=0.1,hang_rate=0.1,cut_rate=0.2,slow_rate=0.1").unwrap();
        let run = |seed| {
            let st = FaultState::new(seed, faults.clone());
            (0..500)
                .map(|_| {
                    let mut r = st.next_rng(Service::Llm);
                    st.decide(Service::Llm, &mut r)
                })
                .collect::<Vec<_>>()
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a, run(2));
        let errors = a
            .iter()
            .filter(|d| matches!(d.fate, Fate::Error(_)))
            .count();
        let hangs = a
            .iter()
            .filter(|d| matches!(d.fate, Fate::Hang { .. }))
            .count();
        let cuts = a.iter().filter(|d| d.cut_at.is_some()).count();
        assert!((30..=70).contains(&errors), "{errors}");
        assert!((30..=70).contains(&hangs), "{hangs}");
        assert!((70..=130).contains(&cuts), "{cuts}");
    }

    #[test]
    fn rpm_bucket_refuses_with_retry_after() {
        let st = FaultState::new(0, Faults::parse_spec("rpm=2").unwrap());
        assert!(st.admit(Service::Llm, "m", 10.0, None).is_ok());
        assert!(st.admit(Service::Llm, "m", 10.0, None).is_ok());
        let e = st.admit(Service::Llm, "m", 10.0, None).unwrap_err();
        assert_eq!(e.what, "requests");
        // Refill is 2 per minute: one request needs 30 s.
        assert_eq!(e.retry_after_s, Some(30));
        // Buckets are per model.
        assert!(st.admit(Service::Llm, "other", 10.0, None).is_ok());
    }

    #[test]
    fn a_one_second_window_holds_a_second_of_the_limit() {
        let st = FaultState::new(0, Faults::parse_spec("rpm=600,limit_window_s=1").unwrap());
        // 600 a minute held a second at a time: a burst of 10, then 429.
        for _ in 0..10 {
            assert!(st.admit(Service::Llm, "m", 10.0, None).is_ok());
        }
        let e = st.admit(Service::Llm, "m", 10.0, None).unwrap_err();
        assert_eq!((e.limit, e.retry_after_s), (10.0, Some(1)));
        let minute = FaultState::new(0, Faults::parse_spec("rpm=600").unwrap());
        let admitted = (0..700)
            .filter(|_| minute.admit(Service::Llm, "m", 10.0, None).is_ok())
            .count();
        assert_eq!(admitted, 600, "the default holds a minute's burst");
        for bad in [
            "limit_window_s=0",
            "limit_window_s=61",
            "limit_window_s=nan",
        ] {
            assert!(Faults::parse_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tpm_refuses_oversize_requests_for_good() {
        let st = FaultState::new(0, Faults::parse_spec("tpm=1000").unwrap());
        let e = st.admit(Service::Llm, "m", 5000.0, None).unwrap_err();
        assert_eq!(e.what, "tokens");
        assert_eq!(e.retry_after_s, None);
        assert!(st.admit(Service::Llm, "m", 900.0, None).is_ok());
        assert!(st.admit(Service::Llm, "m", 200.0, None).is_err());
    }
}

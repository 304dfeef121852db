//! Drives `[[flow.steps]]`: each arrival (open model) or user iteration
//! (closed model) runs the steps in turn, one request at a time, with the
//! rows its datasets gave it once and the values earlier steps extracted.
//! A poll repeats its step until the value at `until` is done (or failed,
//! or its timeout passes); a 429 with `Retry-After` is sent again after
//! it, a bounded number of times. Nothing here waits: [`FlowPlan::advance`]
//! looks at a finished request and says what to send next, and the worker
//! sends it, so a flow's requests are recorded by the worker that owns it,
//! without locks, like any other request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use genbench_collectors::flows::{Attempt, Ended};
use genbench_collectors::{Recorder, Sample};
use genbench_model::{ErrorKind, FlowErrorKind};
use genbench_presets::rng::Rng;
use genbench_scenarios::{Dataset, ExtractFrom, Flow, Poll, RequestTemplate};

pub use super::flow_run::FlowRun;
use super::launch::{Launch, Slots};
use super::requests::{Draws, Template};
use super::sender::{Sender, Slot};

/// Most times one step repeats a 429 answer after its `Retry-After`.
pub const MAX_RETRIES_429: u32 = 5;
/// Longest wait a `Retry-After` can impose, whatever it says.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One step, ready to send.
pub struct StepPlan {
    pub name: String,
    sender: Arc<Sender>,
    template: Template,
    extract: Vec<genbench_scenarios::Extract>,
    poll: Option<Poll>,
    think: Duration,
}

/// A flow scenario's steps, built once per run.
pub struct FlowPlan {
    steps: Vec<StepPlan>,
    draws: Draws,
    /// The first poll's `until`: where the job's state is read, so the time
    /// until it first changes is the time queued.
    state: Option<String>,
}

impl FlowPlan {
    /// Step `i`'s sender, from one with its request settings (method,
    /// headers, checks, timeout): it keeps `Retry-After` and the headers
    /// the step extracts, and bodies when the flow reads them.
    pub fn step_sender(flow: &Flow, i: usize, sender: Sender) -> Sender {
        let Some(s) = flow.steps.get(i) else {
            return sender;
        };
        // Retry-After, and each header the step extracts.
        let mut captured = vec!["retry-after".to_string()];
        captured.extend(s.extract.iter().filter_map(|e| match &e.from {
            ExtractFrom::Header(h) => Some(h.clone()),
            ExtractFrom::Json(_) => None,
        }));
        let sender = sender.with_captured(captured);
        // Bodies are read for extraction, polls and the job's state (any
        // step may be the one that first reports it).
        let polls = flow.steps.iter().any(|s| s.poll.is_some());
        if polls || !s.extract.is_empty() {
            sender.with_bodies()
        } else {
            sender
        }
    }

    /// `templates`: the flow's requests with `${env:NAME}` resolved, and
    /// `senders` from [`FlowPlan::step_sender`], in step order.
    pub fn new(
        flow: &Flow,
        templates: &[RequestTemplate],
        datasets: &BTreeMap<String, Dataset>,
        senders: Vec<Sender>,
    ) -> Self {
        let mut variables: Vec<String> = Vec::new();
        for t in templates {
            variables.extend(t.variables.iter().cloned());
        }
        let state = flow
            .steps
            .iter()
            .find_map(|s| s.poll.as_ref().map(|p| p.until.clone()));
        let steps = flow
            .steps
            .iter()
            .zip(templates)
            .zip(senders)
            .map(|((s, t), sender)| StepPlan {
                name: s.name.clone(),
                sender: Arc::new(sender),
                template: Template::new(t),
                extract: s.extract.clone(),
                poll: s.poll.clone(),
                think: s.think,
            })
            .collect();
        FlowPlan {
            steps,
            draws: Draws::new(&variables, datasets),
            state,
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name.clone()).collect()
    }

    /// The shortest poll interval: how late a flow can be seen done.
    pub fn poll_interval(&self) -> Option<Duration> {
        self.steps
            .iter()
            .filter_map(|s| s.poll.as_ref().map(|p| p.every))
            .min()
    }

    /// The longest a flow can take once started: every step's timeout,
    /// retries and poll, with its think time. Work still unanswered this
    /// long after the last start is abandoned.
    pub fn longest(&self, request_timeout: Duration) -> Duration {
        self.steps
            .iter()
            .map(|s| {
                let t = s.sender.timeout();
                let retries = (t + MAX_RETRY_AFTER) * MAX_RETRIES_429;
                let poll = s.poll.as_ref().map_or(Duration::ZERO, |p| p.timeout + t);
                t + retries + poll + s.think
            })
            .sum::<Duration>()
            .max(request_timeout)
    }

    /// A new flow's first request.
    pub fn begin(
        &self,
        id: u64,
        rng: &mut Rng,
        mut slot: Slot,
        scheduled: Option<Duration>,
        pause: Duration,
    ) -> Launch {
        let mut run = Box::new(FlowRun {
            id,
            rows: Vec::new(),
            vars: Vec::new(),
            step: 0,
            start: None,
            step_sent: Duration::ZERO,
            polls: 0,
            retries: 0,
            initial_state: None,
            queued: None,
            attempt: Attempt::First,
            sent: 0,
        });
        self.draws.draw(rng, &mut run.rows);
        self.render(&mut run, &mut slot);
        Launch {
            sender: self.steps[0].sender.clone(),
            pause,
            scheduled,
            slot,
            flow: Some(run),
        }
    }

    /// Renders `run`'s next request into `slot`; its requests share one
    /// trace, each with a span of its own.
    fn render(&self, run: &mut FlowRun, slot: &mut Slot) {
        let mut values = BTreeMap::new();
        self.draws.values(&run.rows, &mut values);
        for (k, v) in &run.vars {
            values.insert(k.as_str(), v.as_str());
        }
        let step = &self.steps[run.step];
        step.template.render_into(&values, slot.request_mut());
        slot.request_mut().trace = step.sender.trace_ids(run.id, run.sent);
        run.sent = run.sent.wrapping_add(1);
    }

    /// Records a finished request of `run` and decides what follows: the
    /// next request (`Some`), or the flow's end (recorded, `None`).
    pub fn advance(
        &self,
        mut run: Box<FlowRun>,
        sample: Sample,
        slot: Slot,
        slots: &mut Slots,
        rec: &mut Recorder,
    ) -> Option<Launch> {
        let step = &self.steps[run.step];
        let (start, end) = (*run.start.get_or_insert(sample.scheduled), sample.end);
        if run.attempt == Attempt::First {
            run.step_sent = sample.sent;
        }
        let next = self.judge(&mut run, step, &sample, &slot);
        let tag = (run.id, step.name.as_str(), run.step, run.attempt);
        slots.finish(sample, slot, &step.sender, rec, Some(tag));
        let (pause, attempt) = match next {
            Next::Again(pause, attempt) => (pause, attempt),
            Next::Step if run.step + 1 < self.steps.len() => {
                run.step += 1;
                run.retries = 0;
                (step.think, Attempt::First)
            }
            Next::Step => {
                Self::end(rec, &run, start, end, None);
                return None;
            }
            Next::Fail(kind, example) => {
                Self::end(rec, &run, start, end, Some((kind, example)));
                return None;
            }
        };
        match attempt {
            Attempt::Poll => run.polls += 1,
            Attempt::Retry => run.retries += 1,
            Attempt::First => {}
        }
        run.attempt = attempt;
        let mut slot = slots.take();
        self.render(&mut run, &mut slot);
        Some(Launch {
            sender: self.steps[run.step].sender.clone(),
            pause,
            scheduled: None,
            slot,
            flow: Some(run),
        })
    }

    fn end(
        rec: &mut Recorder,
        run: &FlowRun,
        start: Duration,
        end: Duration,
        error: Option<(FlowErrorKind, Option<String>)>,
    ) {
        rec.record_flow_end(Ended {
            step: run.step,
            latency: end.saturating_sub(start),
            end,
            queued: run.queued,
            polls: run.polls,
            error,
        });
    }

    /// What an answer means for its flow. Extracted values are stored on
    /// `run` when the step is done.
    fn judge(&self, run: &mut FlowRun, step: &StepPlan, s: &Sample, slot: &Slot) -> Next {
        let header = |name: &str| {
            step.sender
                .captured_index(name)
                .and_then(|i| slot.captured(i))
        };
        let retry_after = header("retry-after").and_then(|v| retry_after(v, SystemTime::now()));
        match s.outcome {
            genbench_collectors::Outcome::Error(ErrorKind::RateLimited)
                if retry_after.is_some() && run.retries < MAX_RETRIES_429 =>
            {
                return Next::Again(retry_after.unwrap_or_default(), Attempt::Retry);
            }
            genbench_collectors::Outcome::Error(k) => {
                return Next::Fail(FlowErrorKind::Request(k), None);
            }
            genbench_collectors::Outcome::Abandoned(_) => {
                return Next::Fail(FlowErrorKind::Abandoned, None);
            }
            genbench_collectors::Outcome::Ok(_) => {}
        }
        let body = parse_body(slot.body());
        self.note_state(run, body.as_ref(), s);
        if let Some(p) = &step.poll {
            let value = body.as_ref().and_then(|b| b.pointer(&p.until));
            let shown = || value.map_or("nothing".to_string(), |v| v.to_string());
            if value.is_some_and(|v| p.fail_on.contains(v)) {
                return Next::Fail(
                    FlowErrorKind::JobFailed,
                    Some(format!("{} was {}", p.until, shown())),
                );
            }
            if !value.is_some_and(|v| p.equals.contains(v)) {
                let waited = s.end.saturating_sub(run.step_sent);
                if waited >= p.timeout {
                    return Next::Fail(
                        FlowErrorKind::PollTimeout,
                        Some(format!(
                            "{} was still {} after {:.1} s",
                            p.until,
                            shown(),
                            waited.as_secs_f64()
                        )),
                    );
                }
                let wait = p.every.max(retry_after.unwrap_or_default());
                return Next::Again(wait.min(p.timeout - waited), Attempt::Poll);
            }
        }
        for e in &step.extract {
            let got = match &e.from {
                ExtractFrom::Json(ptr) => {
                    body.as_ref().and_then(|b| b.pointer(ptr)).and_then(as_text)
                }
                ExtractFrom::Header(h) => header(h)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .map(|v| step.sender.path_on_target(v.trim())),
            };
            match got {
                Some(v) => set_var(&mut run.vars, &e.var, v),
                None => {
                    let from = match &e.from {
                        ExtractFrom::Json(p) => format!("{p} is not in the answer"),
                        ExtractFrom::Header(h) => format!("the answer has no {h} header"),
                    };
                    return Next::Fail(FlowErrorKind::Extract, Some(format!("{} = {from}", e.var)));
                }
            }
        }
        Next::Step
    }

    /// The time queued ends when the job's state first differs from the
    /// first one an answer reported.
    fn note_state(&self, run: &mut FlowRun, body: Option<&serde_json::Value>, s: &Sample) {
        let (Some(ptr), None) = (&self.state, run.queued) else {
            return;
        };
        let Some(v) = body.and_then(|b| b.pointer(ptr)) else {
            return;
        };
        match &run.initial_state {
            None => run.initial_state = Some(v.clone()),
            Some(first) if first != v => {
                run.queued = Some(s.sent.saturating_sub(run.start.unwrap_or_default()));
            }
            Some(_) => {}
        }
    }
}

enum Next {
    /// The same step again after the pause: a poll, or a 429's retry.
    Again(Duration, Attempt),
    /// The step is done: the next one, or the flow's end.
    Step,
    Fail(FlowErrorKind, Option<String>),
}

fn parse_body(body: &[u8]) -> Option<serde_json::Value> {
    if body.is_empty() {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// A JSON value as a variable holds it: strings as they are, numbers and
/// booleans as written; objects, arrays and null are not values.
fn as_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn set_var(vars: &mut Vec<(String, String)>, name: &str, v: String) {
    match vars.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = v,
        None => vars.push((name.to_string(), v)),
    }
}

/// `Retry-After` in seconds (`2`, or `1.5`), or an HTTP date, read as the
/// wait from `now` until then (none when it has passed; the server's clock
/// is taken as ours). Capped at [`MAX_RETRY_AFTER`].
fn retry_after(v: &[u8], now: SystemTime) -> Option<Duration> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let d = match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs),
        Ok(_) => return None,
        Err(_) => {
            let at = crate::timefmt::parse_http_date(s)?;
            at.duration_since(now).unwrap_or_default()
        }
    };
    Some(d.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_caps_them() {
        let now = crate::timefmt::parse_rfc3339("2026-10-21T07:28:00Z").unwrap();
        let after = |v: &[u8]| retry_after(v, now);
        assert_eq!(after(b"2"), Some(Duration::from_secs(2)));
        assert_eq!(after(b" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(after(b"86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(after(b"soon"), None);
        assert_eq!(after(b"-1"), None);
        // A date is the wait until it; one already past is no wait.
        let in_12s = b"Wed, 21 Oct 2026 07:28:12 GMT";
        assert_eq!(after(in_12s), Some(Duration::from_secs(12)));
        assert_eq!(
            after(b"Wed, 21 Oct 2026 07:27:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            after(b"Thu, 22 Oct 2026 07:28:00 GMT"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(after(b"Wed, 21 Oct 2026 07:28:12 PST"), None);
    }

    #[test]
    fn extracted_values_are_text() {
        assert_eq!(as_text(&serde_json::json!("j-1")).as_deref(), Some("j-1"));
        assert_eq!(as_text(&serde_json::json!(42)).as_deref(), Some("42"));
        assert_eq!(as_text(&serde_json::json!({"a": 1})), None);
        let mut vars = Vec::new();
        set_var(&mut vars, "job", "a".into());
        set_var(&mut vars, "job", "b".into());
        assert_eq!(vars, [("job".to_string(), "b".to_string())]);
    }
}

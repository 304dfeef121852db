//! What a worker sends with: a launch (a request, its pause and the flow it
//! belongs to) and the worker's idle slots, which each request borrows and
//! gives back with its sample.

use std::sync::Arc;
use std::time::Duration;

use genbench_collectors::flows::Attempt;
use genbench_collectors::{BodyFacts, Recorder, Response, Sample};
use tokio::sync::mpsc;

use super::flow_run::FlowRun;
use super::llm::{self, Scratch};
use super::sender::{Sender, Slot};

/// A request to send: after `pause`, on `sender`, with the flow it belongs
/// to (if any) travelling with it.
pub struct Launch {
    pub sender: Arc<Sender>,
    pub pause: Duration,
    pub scheduled: Option<Duration>,
    pub slot: Slot,
    pub flow: Option<Box<FlowRun>>,
}

/// A worker's idle slots (kept-alive connections and chunk-gap buffers):
/// each request in flight borrows one and gives it back with its sample, so
/// once warm a request opens no connection and allocates no buffer.
#[derive(Default)]
pub struct Slots {
    idle: Vec<Slot>,
    llm: Scratch,
    /// This worker's records not yet handed to the writer (`--records`).
    records: String,
    records_to: Option<mpsc::UnboundedSender<String>>,
    worker: usize,
}

/// Records are handed over in chunks of about this many bytes, so a worker
/// holds at most this much and the writer gets few, large writes.
const RECORDS_CHUNK: usize = 64 << 10;

impl Drop for Slots {
    fn drop(&mut self) {
        self.flush_records();
    }
}

impl Slots {
    /// Slots of worker `worker` (named in its records).
    pub fn for_worker(worker: usize) -> Self {
        let mut s = Slots::default();
        s.worker = worker;
        s
    }

    pub fn take(&mut self) -> Slot {
        self.idle.pop().unwrap_or_default()
    }

    fn flush_records(&mut self) {
        if let Some(tx) = &self.records_to
            && !self.records.is_empty()
        {
            // The writer outlives the workers; if it failed, it says so.
            let _ = tx.send(std::mem::take(&mut self.records));
        }
    }

    /// Records a finished request into `rec` (with its stages, chunk gaps,
    /// what its body says, its LLM stream's figures and whether it met the
    /// objectives) and keeps its slot for the next request. `flow`: the
    /// flow's id and step name, and the step's index with the attempt.
    pub fn finish(
        &mut self,
        mut sample: Sample,
        slot: Slot,
        sender: &Sender,
        rec: &mut Recorder,
        flow: Option<(u64, &str, usize, Attempt)>,
    ) {
        let inspect = sender.inspect();
        // Only a success's body is read.
        let docs = match sample.ok() {
            true => inspect.documents(sender.body_keys(), slot.body()),
            false => Vec::new(),
        };
        let header = |n: &str| sender.captured_index(n).and_then(|i| slot.captured(i));
        let body = match sample.ok() {
            true => inspect.read(&mut sample, &docs, header),
            false => BodyFacts::default(),
        };
        let llm = match slot.marks() {
            [] => None,
            marks => llm::read_stream(slot.body(), marks, &mut self.llm),
        };
        rec.response(&Response {
            sample,
            server_timing: slot.server_timing(),
            conn: slot.conn_event(),
            failed_check: slot.failed_check(),
            gaps_us: slot.gaps_us(),
            llm: llm.as_ref().map(|l| (l, &self.llm.itl_us[..])),
            objectives: sender.objectives(),
            body,
            step: flow.map(|f| (f.2, f.3)),
        });
        if let Some(tx) = sender.records() {
            let r = slot.request();
            let sent = genbench_collectors::records::Sent {
                method: r.method.as_deref().unwrap_or(sender.method()),
                path: r.path.as_str(),
                body: r.body.as_deref(),
            };
            genbench_collectors::records::line(
                &mut self.records,
                self.worker,
                &sample,
                &sent,
                slot.server_timing(),
                slot.request_id(),
                flow.map(|f| (f.0, f.1)),
            );
            self.records_to.get_or_insert_with(|| tx.clone());
            if self.records.len() >= RECORDS_CHUNK {
                self.flush_records();
            }
        }
        self.idle.push(slot);
    }
}

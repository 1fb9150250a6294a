//! `tracing` set-up for tests: events stamped with simulated time.
//!
//! `RUST_LOG=debug` (any `EnvFilter` directive) prints events to stderr; `LAB_TRACE=FILE`
//! writes every event of the run, at every level, to FILE as JSON lines, one object per event:
//!
//! ```text
//! {"t":1.234567,"level":"DEBUG","target":"raft","node":2,"topic":"vote","term":3,"msg":"granted vote to 1"}
//! ```
//!
//! `t` is simulated seconds since the run started; `node` and `topic` are the fields the labs
//! attach (topics such as timer, vote, leader, append, commit, apply, persist, snapshot; the
//! network's send, deliver, drop-request, drop-reply; the testers' crash, restart, connect,
//! disconnect; `failure` where a check fired). The log viewer (`cargo run --release -- logs`)
//! and the grader's timeline pages read this format.
//!
//! The file is capped at `LAB_TRACE_MAX_MB` megabytes (default [`DEFAULT_TRACE_MAX_MB`]): a
//! run that livelocks or runs away must not fill the disk. The last line of a cut trace is an
//! event of topic `trace-cut` that says so.
//!
//! The livelock report counts the trace topics of the instant a run got stuck at. For that a
//! small counting subscriber is always installed, but it asks to see events only while some
//! run of the process is suspect (`labrpc::livelock::tallying_topics`): otherwise every
//! callsite's cached interest is "never" and the maximum level is off, so with neither variable
//! set `tracing`'s macros cost a branch each, as with no subscriber at all.

use std::fmt;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Simulated seconds since the run started, if a run is going on in this thread.
fn sim_seconds() -> Option<f64> {
    labrpc::sim::try_current().map(|sim| sim.elapsed().as_secs_f64())
}

/// Stamps human-readable events with the simulation's clock.
struct SimTime;

impl FormatTime for SimTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        match sim_seconds() {
            Some(t) => write!(w, "{t:10.6}"),
            None => write!(w, "{:>10}", "-"),
        }
    }
}

/// The trace file's cap unless `LAB_TRACE_MAX_MB` says otherwise. Raft's whole suite writes
/// about 20 MB; a livelocked run writes some 70 MB a second.
pub const DEFAULT_TRACE_MAX_MB: u64 = 64;

/// Writes each event as one JSON object on one line, up to a cap.
struct JsonLines {
    file: Mutex<CappedFile>,
}

struct CappedFile {
    out: std::io::BufWriter<std::fs::File>,
    written: u64,
    cap: u64,
    /// The cap was reached and the note written: nothing more goes in.
    cut: bool,
    line: Vec<u8>,
}

/// Collects an event's fields into a JSON object; `message` becomes `msg`.
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::from(value));
    }
}

impl Fields {
    fn insert(&mut self, field: &Field, value: Value) {
        let name = if field.name() == "message" {
            "msg"
        } else {
            field.name()
        };
        self.0.insert(name.to_string(), value);
    }
}

impl<S: Subscriber> Layer<S> for JsonLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields(Map::new());
        fields
            .0
            .insert("t".into(), sim_seconds().map_or(Value::Null, Value::from));
        fields
            .0
            .insert("level".into(), Value::from(meta.level().as_str()));
        fields.0.insert("target".into(), Value::from(meta.target()));
        event.record(&mut fields);
        let mut file = self.file.lock().unwrap();
        file.write_event(fields.0);
    }
}

impl CappedFile {
    fn write_event(&mut self, event: Map<String, Value>) {
        if self.cut {
            return;
        }
        let t = event.get("t").cloned().unwrap_or(Value::Null);
        self.line.clear();
        let _ = serde_json::to_writer(&mut self.line, &Value::Object(event));
        self.line.push(b'\n');
        if self.written + self.line.len() as u64 > self.cap {
            self.cut = true;
            let note = serde_json::json!({
                "t": t,
                "level": "WARN",
                "target": "harness",
                "topic": "trace-cut",
                "msg": format!(
                    "the trace was cut here: it reached its cap of {} MB (LAB_TRACE_MAX_MB); later events are not written",
                    self.cap / 1_000_000
                ),
            });
            let _ = writeln!(self.out, "{note}");
            let _ = self.out.flush();
            return;
        }
        self.written += self.line.len() as u64;
        let _ = self.out.write_all(&self.line);
    }
}

impl Drop for JsonLines {
    fn drop(&mut self) {
        let _ = self.file.lock().unwrap().out.flush();
    }
}

/// Installs the subscriber once per process: the trace file and stderr output if `LAB_TRACE`
/// or `RUST_LOG` asks for them, and the livelock report's topic counter always. An error (a
/// bad `LAB_TRACE_MAX_MB`, a trace file that cannot be created) is returned on every call.
pub fn init() -> Result<(), String> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        let stderr = std::env::var("RUST_LOG").ok().map(|_| {
            tracing_subscriber::fmt::layer()
                .with_timer(SimTime)
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::from_default_env())
        });
        let file = match std::env::var("LAB_TRACE") {
            Ok(path) => Some(open_trace(&path, trace_cap_from_env()?)?),
            Err(_) => None,
        };
        if stderr.is_none() && file.is_none() {
            let _ = tracing::subscriber::set_global_default(TopicCounter);
            return Ok(());
        }
        let _ = tracing_subscriber::registry()
            .with(stderr)
            .with(file)
            .with(TopicLayer)
            .try_init();
        record_panics_as_failures();
        Ok(())
    })
    .clone()
}

fn open_trace(path: &str, cap: u64) -> Result<JsonLines, String> {
    let file = std::fs::File::create(path)
        .map_err(|e| format!("LAB_TRACE={path}: cannot create the trace file: {e}"))?;
    Ok(JsonLines {
        file: Mutex::new(CappedFile {
            out: std::io::BufWriter::new(file),
            written: 0,
            cap,
            cut: false,
            line: Vec::new(),
        }),
    })
}

/// `LAB_TRACE_MAX_MB` in bytes, or the default.
fn trace_cap_from_env() -> Result<u64, String> {
    match std::env::var("LAB_TRACE_MAX_MB") {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(mb) if mb > 0 => Ok(mb.saturating_mul(1_000_000)),
            _ => Err(format!(
                "LAB_TRACE_MAX_MB={text:?} is not a size: give a positive whole number of megabytes, such as LAB_TRACE_MAX_MB={DEFAULT_TRACE_MAX_MB}"
            )),
        },
        Err(_) => Ok(DEFAULT_TRACE_MAX_MB * 1_000_000),
    }
}

/// Flushes the trace file: the harness calls it when a run ends, since a global subscriber is
/// never dropped.
pub fn flush() {
    tracing::dispatcher::get_default(|dispatch| {
        if let Some(json) = dispatch.downcast_ref::<JsonLines>() {
            let _ = json.file.lock().unwrap().out.flush();
        }
    });
}

/// Counts an event's topic (its target when it has none) for the livelock report, if its run
/// is suspect.
fn count_topic(event: &Event<'_>) {
    if !labrpc::livelock::tallying_topics() {
        return;
    }
    let Some(sim) = labrpc::sim::try_current() else {
        return;
    };
    if !sim.is_suspect() {
        return;
    }
    struct Topic(Option<String>);
    impl Visit for Topic {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "topic" {
                self.0 = Some(value.to_string());
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "topic" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }
    let mut topic = Topic(None);
    event.record(&mut topic);
    sim.note_topic(
        topic
            .0
            .as_deref()
            .unwrap_or_else(|| event.metadata().target()),
    );
}

/// The topic counter beside the trace file and stderr output.
struct TopicLayer;

impl<S: Subscriber> Layer<S> for TopicLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        count_topic(event);
    }
}

/// The topic counter alone, when no trace is asked for: it wants events only while some run
/// is suspect (see the module's documentation), and has no spans to keep.
struct TopicCounter;

impl Subscriber for TopicCounter {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        if labrpc::livelock::tallying_topics() {
            Interest::always()
        } else {
            Interest::never()
        }
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(if labrpc::livelock::tallying_topics() {
            LevelFilter::TRACE
        } else {
            LevelFilter::OFF
        })
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        labrpc::livelock::tallying_topics()
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        count_topic(event);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A panic (a failed assertion in a test or tester) becomes a `failure` event at the simulated
/// moment it fired, so the timeline can mark it.
fn record_panics_as_failures() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(topic = "failure", location, "{message}");
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_past_its_cap_is_cut_with_a_note() {
        let path = std::env::temp_dir().join(format!("harness-cap-{}.jsonl", std::process::id()));
        let json = open_trace(path.to_str().unwrap(), 200).unwrap();
        for i in 0..10 {
            let mut event = Map::new();
            event.insert("t".into(), Value::from(i as f64));
            event.insert("msg".into(), Value::from("x".repeat(30)));
            json.file.lock().unwrap().write_event(event);
        }
        drop(json);
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let lines: Vec<&str> = text.lines().collect();
        // 200 bytes hold four 48-byte events, then the note.
        assert_eq!(lines.len(), 5, "{text}");
        let note: Value = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(note["topic"], "trace-cut");
        assert_eq!(note["t"], 4.0);
        assert!(note["msg"].as_str().unwrap().contains("LAB_TRACE_MAX_MB"));
    }
}

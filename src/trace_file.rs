//! Reading a run's trace: the JSON lines that `LAB_TRACE=FILE` writes (see the harness's
//! `trace` module for the format). The log viewer and the timeline page both start here.

use std::path::Path;

use serde_json::{Map, Value};

/// One event of a run.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    /// Line number in the file, from 1: how the timeline links back to the raw trace.
    pub line: usize,
    /// Simulated seconds since the run started.
    pub t: f64,
    /// The peer the event belongs to; None for the tester, the harness, the network.
    pub node: Option<i64>,
    pub topic: String,
    pub level: String,
    pub msg: String,
    /// Every other field, as written.
    pub fields: Map<String, Value>,
}

impl TraceEvent {
    /// A field as text (strings without quotes).
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// The event's extra fields as `k=v k=v`, for one-line display.
    pub fn fields_text(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.fields {
            if matches!(key.as_str(), "target") {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            match value {
                Value::String(s) => out.push_str(&format!("{key}={s}")),
                other => out.push_str(&format!("{key}={other}")),
            }
        }
        out
    }
}

/// A file's events, and a warning for every line that is not one (with its line number).
pub struct Trace {
    pub events: Vec<TraceEvent>,
    pub warnings: Vec<String>,
}

/// Reads a trace file. An unreadable file is an error; a malformed line is a warning.
pub fn read(path: &Path) -> Result<Trace, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(parse(&String::from_utf8_lossy(&bytes)))
}

/// Parses trace text, skipping (and reporting) lines that are not events.
pub fn parse(text: &str) -> Trace {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match parse_line(raw, line) {
            Ok(event) => events.push(event),
            Err(why) => warnings.push(format!("line {line}: {why}")),
        }
    }
    Trace { events, warnings }
}

fn parse_line(raw: &str, line: usize) -> Result<TraceEvent, String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(mut fields) = value else {
        return Err("not a JSON object".into());
    };
    let t = match fields.remove("t") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::Null) | None => 0.0,
        Some(other) => return Err(format!("\"t\" is not a number: {other}")),
    };
    let node = match fields.remove("node") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let mut take = |key: &str| match fields.remove(key) {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let topic = take("topic");
    let level = take("level");
    let msg = take("msg");
    Ok(TraceEvent {
        line,
        t,
        node,
        topic,
        level,
        msg,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_and_reports_bad_lines() {
        let text = concat!(
            r#"{"t":0.5,"node":2,"topic":"vote","level":"DEBUG","msg":"granted","term":3}"#,
            "\nnot json\n[1,2]\n",
            r#"{"t":"soon"}"#,
            "\n",
            r#"{"t":1.0,"topic":"send","from":"a"}"#,
            "\n"
        );
        let trace = parse(text);
        assert_eq!(trace.events.len(), 2);
        assert_eq!(trace.events[0].node, Some(2));
        assert_eq!(trace.events[0].field("term").as_deref(), Some("3"));
        assert_eq!(trace.events[1].line, 5);
        assert_eq!(trace.events[1].node, None);
        assert_eq!(trace.warnings.len(), 3);
        assert!(
            trace.warnings[0].starts_with("line 2: not JSON"),
            "{:?}",
            trace.warnings
        );
        assert!(
            trace.warnings[2].starts_with("line 4:"),
            "{:?}",
            trace.warnings
        );
    }
}

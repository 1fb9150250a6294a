//! `lincheck`: checks a recorded history file for linearizability from the command line.
//!
//! ```text
//! lincheck --model kv FILE         # the course's key/value histories (tests/data/kv)
//! lincheck --model register FILE   # Jepsen etcd logs (tests/data/jepsen)
//!          [--html OUT] [--budget STEPS] [--json]
//! ```
//!
//! Exit status: 0 linearizable, 1 not linearizable, 2 bad arguments or unreadable/malformed
//! input (the message names the file and line), 3 search budget exhausted (no verdict).

use clap::{Parser, ValueEnum};
use lincheck::{check, parse, write_html, History, KvModel, Model, Outcome, RegisterModel};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Check a recorded history for linearizability.
#[derive(Parser)]
#[command(
    name = "lincheck",
    version,
    after_help = "Exit status: 0 linearizable, \
    1 not linearizable, 2 bad arguments or input, 3 budget exhausted (no verdict)."
)]
struct Args {
    /// The object the history was recorded against (which also selects the file format).
    #[arg(long, value_enum)]
    model: ModelKind,
    /// The history file.
    file: PathBuf,
    /// Also write an HTML visualization of the history (and of the failure, if any) here.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Give up after this many search steps (exit status 3).
    #[arg(long, value_name = "STEPS", default_value_t = lincheck::DEFAULT_BUDGET)]
    budget: u64,
    /// Print the outcome as JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelKind {
    /// Get/Put/Append on string keys; lines like `{:process 0, :type :invoke, :f :get, ...}`.
    Kv,
    /// Jepsen's etcd register; lines like `INFO  jepsen.util - 3  :ok  :read  4`.
    Register,
}

fn main() -> ExitCode {
    let args = Args::parse(); // on bad arguments clap prints usage and exits with status 2
    let result = read(&args.file).and_then(|text| match args.model {
        ModelKind::Kv => run(&args, &KvModel, parse::kv::parse(&text)),
        ModelKind::Register => run(&args, &RegisterModel, parse::jepsen::parse(&text)),
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            say_err(&format!("lincheck: {message}"));
            ExitCode::from(2)
        }
    }
}

// Output goes through these rather than `println!`, which panics if the reader has gone away
// (e.g. `lincheck ... | head -1`); a lost message is not worth a crash.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn say_err(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Checks the parsed history, reports, and returns the exit status; errors are messages.
fn run<M: Model>(
    args: &Args,
    model: &M,
    parsed: Result<History<M::Input, M::Output>, parse::ParseError>,
) -> Result<ExitCode, String> {
    let file = args.file.display();
    let history = parsed.map_err(|error| match error.line {
        Some(line) => format!("{file}:{line}: {}", error.message),
        None => format!("{file}: {}", error.message),
    })?;
    let outcome = check(model, &history, args.budget);

    if let Some(out) = &args.html {
        write_html(model, &history, &outcome, out)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    if args.json {
        let json = serde_json::to_string_pretty(&outcome).map_err(|e| e.to_string())?;
        say(&json);
    } else {
        // First line: the verdict alone, for scripts; then the one-line summary.
        match &outcome {
            Outcome::Linearizable { .. } => say("linearizable"),
            Outcome::NotLinearizable(_) => say("not linearizable"),
            Outcome::BudgetExhausted { .. } => {}
        }
        match &outcome {
            Outcome::BudgetExhausted { .. } => {
                say_err(&format!("lincheck: {file}: {outcome} with --budget STEPS"))
            }
            _ => say(&format!("{file}: {outcome}")),
        }
        if let Some(out) = &args.html {
            say(&format!("visualization written to {}", out.display()));
        }
    }
    Ok(ExitCode::from(match outcome {
        Outcome::Linearizable { .. } => 0,
        Outcome::NotLinearizable(_) => 1,
        Outcome::BudgetExhausted { .. } => 3,
    }))
}

/// Reads the file as UTF-8 text; invalid UTF-8 is reported with its line number.
fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{}:{line}: not valid UTF-8 text", path.display())
    })
}

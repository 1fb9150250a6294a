//! The MapReduce applications, built into every binary and selected by name.
//!
//! The course loads each app as a Go plugin (`wc.so`); here an app is a type implementing
//! [`App`], registered in [`APPS`]. Adding one is a new file in this folder plus one line in
//! `APPS`. Apps behave exactly as the course's plugins, including the odd ones that exist only
//! to test the framework (`mtiming`, `rtiming`, `jobcount`, `early_exit`, `crash`).
//! `slowwrite` (and its reference twin `bigwrite`) is this project's own, for a test the
//! course does not have: workers killed in the middle of writing a file.

use std::fmt;
use std::io;

mod crash;
mod early_exit;
mod indexer;
mod jobcount;
mod liveness;
mod mtiming;
mod random;
mod rtiming;
mod slowwrite;
mod wc;
mod words;

pub use words::words;

/// A MapReduce application: a map function and a reduce function.
///
/// `Sync` because a worker runs a task on a blocking thread while its RPC runtime runs on
/// another. Both functions return `io::Result` because some apps touch the file system; an
/// error fails the task (and the job) with a message instead of a panic.
pub trait App: Sync {
    /// Called once per input file with its name (as given on the command line) and its
    /// contents; calls `emit(key, value)` for every intermediate pair.
    fn map(
        &self,
        filename: &str,
        contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()>;

    /// Called once per distinct key with every value emitted for it, in no particular order;
    /// returns the value of the key's output line.
    fn reduce(&self, key: &str, values: &[&str]) -> io::Result<String>;
}

/// Every app, by the name the binaries accept.
pub static APPS: &[(&str, &dyn App)] = &[
    ("wc", &wc::WordCount),
    ("indexer", &indexer::Indexer),
    ("mtiming", &mtiming::MapTiming),
    ("rtiming", &rtiming::ReduceTiming),
    ("jobcount", &jobcount::JobCount),
    ("early_exit", &early_exit::EarlyExit),
    ("crash", &crash::Crash { may_crash: true }),
    ("nocrash", &crash::Crash { may_crash: false }),
    ("slowwrite", &slowwrite::SlowWrite { slow: true }),
    ("bigwrite", &slowwrite::SlowWrite { slow: false }),
];

/// The app called `name`.
pub fn lookup(name: &str) -> Result<&'static dyn App, UnknownApp> {
    APPS.iter()
        .find(|(known, _)| *known == name)
        .map(|(_, app)| *app)
        .ok_or_else(|| UnknownApp(name.to_string()))
}

/// The error for an app name that is not in [`APPS`]; its message lists the known names.
#[derive(Debug)]
pub struct UnknownApp(pub String);

impl fmt::Display for UnknownApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = APPS.iter().map(|(name, _)| *name).collect();
        write!(
            f,
            "unknown app '{}' (known apps: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownApp {}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_all(app: &dyn App, filename: &str, contents: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        app.map(filename, contents, &mut |k, v| {
            out.push((k.to_string(), v.to_string()))
        })
        .unwrap();
        out
    }

    #[test]
    fn unknown_app_lists_the_known_ones() {
        let message = lookup("nosuch").err().unwrap().to_string();
        assert!(message.contains("nosuch"), "{message}");
        for (name, _) in APPS {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn wc_counts_words() {
        let wc = lookup("wc").unwrap();
        let pairs = map_all(wc, "f", "Hello, wörld! hello");
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["Hello", "wörld", "hello"]);
        assert!(pairs.iter().all(|(_, v)| v == "1"));
        assert_eq!(wc.reduce("hello", &["1", "1"]).unwrap(), "2");
    }

    #[test]
    fn indexer_emits_each_word_once_per_document() {
        let indexer = lookup("indexer").unwrap();
        let mut pairs = map_all(indexer, "doc", "a b a");
        pairs.sort();
        assert_eq!(
            pairs,
            [("a".into(), "doc".into()), ("b".into(), "doc".into())]
        );
        assert_eq!(indexer.reduce("a", &["y", "x"]).unwrap(), "2 x,y");
    }

    #[test]
    fn nocrash_reports_file_facts() {
        let nocrash = lookup("nocrash").unwrap();
        let pairs = map_all(nocrash, "in.txt", "héllo");
        let expected = [("a", "in.txt"), ("b", "6"), ("c", "6"), ("d", "xyzzy")];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, expected);
        assert_eq!(nocrash.reduce("a", &["z", "b"]).unwrap(), "b z");
    }

    #[test]
    fn early_exit_counts_files() {
        let app = lookup("early_exit").unwrap();
        assert_eq!(map_all(app, "f", "x y"), [("f".into(), "1".into())]);
        assert_eq!(app.reduce("other", &["1", "1"]).unwrap(), "2");
    }
}

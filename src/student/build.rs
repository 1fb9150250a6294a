//! Building a tree's test binaries, one package at a time, so that a lab that does not
//! compile costs only its own tests (and those of the labs built on it) their points.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::discover::{self, TestCase};

/// Builds `package`'s test binaries in `tree` (release, into `target_dir`) and lists their
/// tests. A build that fails is `Err` with the compiler's first error; its whole output is
/// kept in `log`.
pub fn build_tests(
    tree: &Path,
    target_dir: &Path,
    package: &str,
    log: &Path,
) -> Result<Vec<TestCase>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(tree)
        .env("CARGO_TARGET_DIR", target_dir)
        .args([
            "test",
            "--release",
            "--no-run",
            "--message-format=json-render-diagnostics",
            "-p",
            package,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    let messages = String::from_utf8_lossy(&output.stderr);
    std::fs::write(log, messages.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    if !output.status.success() {
        return Err(format!(
            "does not build (cargo test -p {package}):\n{}\n(the whole build output: {})",
            first_error(&messages),
            log.display()
        ));
    }
    discover::tests_in_build(&String::from_utf8_lossy(&output.stdout))
}

/// The compiler's first error and the lines that explain it (up to the next message), or the
/// output's last lines when no line starts with `error`.
pub fn first_error(messages: &str) -> String {
    let lines: Vec<&str> = messages.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("error")) else {
        let from = lines.len().saturating_sub(20);
        return lines[from..].join("\n");
    };
    let mut end = start + 1;
    while end < lines.len() && end < start + 40 {
        let line = lines[end];
        if line.starts_with("error") || line.starts_with("warning") {
            break;
        }
        end += 1;
    }
    lines[start..end].join("\n").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::first_error;

    #[test]
    fn the_first_error_with_its_explanation() {
        let messages = "   Compiling raft v0.1.0\nwarning: unused\n  --> a.rs\nerror[E0425]: cannot find value `x`\n --> raft/src/raft.rs:3:5\n  |\n3 |     x\n  |     ^ not found\n\nerror: aborting due to 1 previous error\n";
        assert_eq!(
            first_error(messages),
            "error[E0425]: cannot find value `x`\n --> raft/src/raft.rs:3:5\n  |\n3 |     x\n  |     ^ not found"
        );
        assert_eq!(first_error("a\nb"), "a\nb");
    }
}

//! The `lincheck` binary: verdicts, exit statuses and error messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

fn lincheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(args)
        .output()
        .expect("run lincheck")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `text` to a fresh file under the test's temporary directory.
fn temp_file(name: &str, text: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

#[test]
fn verdicts_and_exit_statuses() {
    let cases = [
        ("kv", "kv/c10-ok.txt", 0, "linearizable"),
        ("kv", "kv/c10-bad.txt", 1, "not linearizable"),
        ("register", "jepsen/etcd_002.log", 0, "linearizable"),
        ("register", "jepsen/etcd_000.log", 1, "not linearizable"),
    ];
    for (model, file, code, verdict) in cases {
        let path = data(file);
        let output = lincheck(&["--model", model, path.to_str().unwrap()]);
        assert_eq!(status(&output), code, "{file}: {}", stderr(&output));
        assert_eq!(stdout(&output).lines().next(), Some(verdict), "{file}");
    }
}

#[test]
fn malformed_input_names_the_file_and_line() {
    let text = "{:process 0, :type :invoke, :f :get, :key \"a\", :value nil}\n\
                {:process 0, :type :ok, :f :get, :key \"a\", :value \"\"}\n\
                {:process 1, :type :invoke, :f :get, :key \"a\" :value nil\n";
    let path = temp_file("malformed.txt", text.as_bytes());
    let output = lincheck(&["--model", "kv", path.to_str().unwrap()]);
    assert_eq!(status(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}:3:", path.display())),
        "{message}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn invalid_utf8_names_the_line() {
    let path = temp_file(
        "binary.log",
        b"INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\xff\xfe\n",
    );
    let output = lincheck(&["--model", "register", path.to_str().unwrap()]);
    assert_eq!(status(&output), 2);
    assert!(stderr(&output).contains(&format!("{}:2:", path.display())));
}

#[test]
fn a_file_without_operations_is_an_error() {
    // etcd_095.log is empty; a kv file read as a Jepsen log has no Jepsen events either.
    for (model, file) in [
        ("register", "jepsen/etcd_095.log"),
        ("register", "kv/c01-ok.txt"),
    ] {
        let path = data(file);
        let output = lincheck(&["--model", model, path.to_str().unwrap()]);
        assert_eq!(status(&output), 2, "{file}");
        assert!(
            stderr(&output).contains("no operations"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn missing_file_and_bad_arguments_exit_2() {
    let output = lincheck(&["--model", "kv", "/nonexistent/history.txt"]);
    assert_eq!(status(&output), 2);
    assert!(stderr(&output).contains("/nonexistent/history.txt"));

    let file = data("kv/c01-ok.txt");
    let file = file.to_str().unwrap();
    for args in [
        vec![],
        vec![file],
        vec!["--model", "queue", file],
        vec!["--model", "kv", file, "--budget", "lots"],
        vec!["--model", "kv", file, "--frobnicate"],
    ] {
        let output = lincheck(&args);
        assert_eq!(status(&output), 2, "{args:?}");
        assert!(stderr(&output).contains("error"), "{args:?}");
    }
}

#[test]
fn budget_exhaustion_exits_3() {
    let path = data("jepsen/etcd_002.log");
    let output = lincheck(&[
        "--model",
        "register",
        path.to_str().unwrap(),
        "--budget",
        "1000",
    ]);
    assert_eq!(status(&output), 3);
    assert!(stderr(&output).contains("budget"), "{}", stderr(&output));
}

#[test]
fn html_and_json_outputs() {
    let html = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-c01-bad.html");
    let _ = std::fs::remove_file(&html);
    let path = data("kv/c01-bad.txt");
    let output = lincheck(&[
        "--model",
        "kv",
        path.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(status(&output), 1);
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));

    let output = lincheck(&["--model", "kv", path.to_str().unwrap(), "--json"]);
    assert_eq!(status(&output), 1);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(json.get("NotLinearizable").is_some(), "{json}");
}

//! Reads Jepsen's etcd test logs: the register histories of `tests/data/jepsen/`.
//!
//! An event line reads `INFO  jepsen.util - P  :TYPE  :F  VALUE` (fields separated by tabs or
//! spaces), where P is the client process, TYPE is `invoke`, `ok`, `fail` or `info`, F is
//! `read`, `write` or `cas`, and VALUE is `nil`, a number, `[FROM TO]` or, on fail/info lines, a
//! reason such as `:timed-out`. Every other line (Jepsen's own chatter, nemesis events, whose
//! process is not a number) is skipped; a line that is an event but malformed is an error.
//!
//! Meaning of the completions, following porcupine's reading of these logs: `ok` returned;
//! `fail` on a cas means the register did not hold FROM (so it did not take effect), and on a
//! read or write means it did not happen at all (it is left out); `info` is an unknown outcome.

use super::{no_operations, Pairer, ParseError};
use crate::history::Operation;
use crate::models::register::{RegisterInput, RegisterOutput};

/// Parses a whole Jepsen log.
pub fn parse(text: &str) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
    let mut pairer = Pairer::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let process = match tokens.as_slice() {
            ["INFO", "jepsen.util", "-", process, ..] => match process.parse::<u64>() {
                Ok(process) => process,
                Err(_) => continue,
            },
            _ => continue,
        };
        let error = |message: String| ParseError::at(number, message);
        let (kind, f, value) = match &tokens[4..] {
            [kind, f, value @ ..] if !value.is_empty() => (*kind, *f, value.join(" ")),
            _ => {
                return Err(error(
                    "expected :TYPE :F VALUE after the process".to_string(),
                ))
            }
        };
        match kind {
            ":invoke" => {
                let input = match f {
                    ":read" => RegisterInput::Read,
                    ":write" => RegisterInput::Write(number_value(&value).map_err(error)?),
                    ":cas" => {
                        let (from, to) = pair_value(&value).map_err(error)?;
                        RegisterInput::Cas { from, to }
                    }
                    other => return Err(error(format!("unknown operation {other}"))),
                };
                pairer.invoke(number, process, input)?;
            }
            ":ok" | ":fail" | ":info" => {
                let invoked = pairer.pending_input(number, process)?.clone();
                let invoked_f = match invoked {
                    RegisterInput::Read => ":read",
                    RegisterInput::Write(_) => ":write",
                    RegisterInput::Cas { .. } => ":cas",
                };
                if f != invoked_f {
                    return Err(error(format!(
                        "process {process} completes {f} but invoked {invoked_f}"
                    )));
                }
                match (kind, invoked) {
                    (":info", _) => pairer.info(number, process)?,
                    (":ok", RegisterInput::Read) => {
                        let read = match value.as_str() {
                            "nil" => None,
                            v => Some(number_value(v).map_err(error)?),
                        };
                        pairer.ok(number, process, RegisterOutput::Read(read))?;
                    }
                    (":ok", RegisterInput::Write(written)) => {
                        if number_value(&value).map_err(error)? != written {
                            return Err(error(format!("write of {written} completes as {value}")));
                        }
                        pairer.ok(number, process, RegisterOutput::Written)?;
                    }
                    (_, RegisterInput::Cas { from, to }) => {
                        if pair_value(&value).map_err(error)? != (from, to) {
                            return Err(error(format!("cas [{from} {to}] completes as {value}")));
                        }
                        let succeeded = kind == ":ok";
                        pairer.ok(number, process, RegisterOutput::Cas { succeeded })?;
                    }
                    // A failed read or write did not happen.
                    _ => pairer.fail(number, process)?,
                }
            }
            other => {
                return Err(error(format!(
                    "unknown event type {other} (expected :invoke, :ok, :fail or :info)"
                )))
            }
        }
    }
    let ops = pairer.finish();
    if ops.is_empty() {
        return Err(no_operations("Jepsen register"));
    }
    Ok(ops)
}

fn number_value(value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("expected a number, found {value:?}"))
}

/// Reads `[FROM TO]`.
fn pair_value(value: &str) -> Result<(i64, i64), String> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| format!("expected [FROM TO], found {value:?}"))?;
    match inner.split_whitespace().collect::<Vec<_>>().as_slice() {
        [from, to] => Ok((number_value(from)?, number_value(to)?)),
        _ => Err(format!("expected [FROM TO], found {value:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_and_skips_other_lines() {
        let text = "INFO  jepsen.core - starting\n\
                    INFO  jepsen.util - 0\t:invoke\t:write\t3\n\
                    INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
                    INFO  jepsen.util - 1   :invoke :cas    [3 4]\n\
                    INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 0\t:ok\t:write\t3\n\
                    INFO  jepsen.util - 1\t:fail\t:cas\t[3 4]\n\
                    INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n\
                    INFO  jepsen.util - 3\t:invoke\t:write\t5\n\
                    INFO  jepsen.util - 3\t:info\t:write\t:timed-out\n\
                    INFO  jepsen.util - 4\t:invoke\t:read\tnil\n";
        let ops = parse(text).unwrap();
        let fail = RegisterOutput::Cas { succeeded: false };
        assert_eq!(
            ops,
            vec![
                Operation::returned(0, RegisterInput::Write(3), 2, RegisterOutput::Written, 6),
                Operation::returned(1, RegisterInput::Cas { from: 3, to: 4 }, 4, fail, 7),
                Operation::no_reply(3, RegisterInput::Write(5), 9),
                Operation::no_reply(4, RegisterInput::Read, 11),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let bad = [
            (
                "INFO  jepsen.util - 0\t:invoke\t:write\tx",
                "expected a number",
            ),
            (
                "INFO  jepsen.util - 0\t:invoke\t:cas\t[1]",
                "expected [FROM TO]",
            ),
            ("INFO  jepsen.util - 0\t:invoke", "expected :TYPE"),
            (
                "INFO  jepsen.util - 0\t:begin\t:read\tnil",
                "unknown event type",
            ),
            ("INFO  jepsen.util - 1\t:ok\t:read\tnil", "never invoked"),
            (
                "INFO  jepsen.util - 9\t:invoke\t:read\tnil",
                "still pending",
            ),
            (
                "INFO  jepsen.util - 9\t:ok\t:write\t1",
                "completes :write but invoked :read",
            ),
        ];
        for (line, expected) in bad {
            let text = format!("INFO  jepsen.util - 9\t:invoke\t:read\tnil\n{line}\n");
            let error = parse(&text).unwrap_err();
            assert_eq!(error.line, Some(2), "{line}: {error}");
            assert!(error.message.contains(expected), "{line}: {error}");
        }
        assert_eq!(parse("").unwrap_err().line, None);
    }
}

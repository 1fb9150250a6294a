//! Reads the course's key/value histories: one event per line, as an EDN map such as
//!
//! ```text
//! {:process 3, :type :invoke, :f :append, :key "4", :value "x 3 1 y"}
//! {:process 3, :type :ok, :f :append, :key "4", :value "x 3 1 y"}
//! {:process 0, :type :ok, :f :get, :key "5", :value ""}
//! ```
//!
//! `:type` is `:invoke` or `:ok` (also accepted: `:info`, outcome unknown, and `:fail`, did not
//! take effect); `:f` is `:get`, `:put` or `:append`. On invoke, put and append carry their
//! argument and get's value is ignored (normally `nil`); on ok, get carries the value read.
//! Blank lines are skipped; anything else that is not such a map is an error.

use super::{no_operations, Pairer, ParseError};
use crate::history::Operation;
use crate::models::kv::KvInput;
use std::collections::BTreeMap;

/// Parses a whole key/value history.
pub fn parse(text: &str) -> Result<Vec<Operation<KvInput, String>>, ParseError> {
    let mut pairer = Pairer::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields = read_map(line).map_err(|message| ParseError::at(number, message))?;
        let event =
            Event::from_fields(&fields).map_err(|message| ParseError::at(number, message))?;
        apply(&mut pairer, number, event)?;
    }
    let ops = pairer.finish();
    if ops.is_empty() {
        return Err(no_operations("key/value"));
    }
    Ok(ops)
}

/// One line, decoded.
struct Event {
    process: u64,
    kind: String,
    f: String,
    key: String,
    value: Option<String>,
}

impl Event {
    fn from_fields(fields: &BTreeMap<String, Value>) -> Result<Event, String> {
        let get = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| format!("missing field :{name}"))
        };
        let process = match get("process")? {
            Value::Int(p) => u64::try_from(*p).map_err(|_| format!("negative :process {p}"))?,
            other => return Err(format!(":process must be a number, not {other}")),
        };
        let keyword = |name: &str| match get(name)? {
            Value::Keyword(k) => Ok(k.clone()),
            other => Err(format!(":{name} must be a keyword, not {other}")),
        };
        let key = match get("key")? {
            Value::Str(k) => k.clone(),
            other => return Err(format!(":key must be a string, not {other}")),
        };
        let value = match fields.get("value") {
            None | Some(Value::Nil) => None,
            Some(Value::Str(v)) => Some(v.clone()),
            Some(other) => return Err(format!(":value must be a string or nil, not {other}")),
        };
        Ok(Event {
            process,
            kind: keyword("type")?,
            f: keyword("f")?,
            key,
            value,
        })
    }
}

fn apply(
    pairer: &mut Pairer<KvInput, String>,
    line: usize,
    event: Event,
) -> Result<(), ParseError> {
    let error = |message: String| ParseError::at(line, message);
    let Event {
        process,
        kind,
        f,
        key,
        value,
    } = event;
    match kind.as_str() {
        "invoke" => {
            let argument = || {
                value
                    .clone()
                    .ok_or_else(|| error(format!(":{f} needs a :value")))
            };
            let input = match f.as_str() {
                "get" => KvInput::Get { key },
                "put" => KvInput::Put {
                    key,
                    value: argument()?,
                },
                "append" => KvInput::Append {
                    key,
                    value: argument()?,
                },
                other => {
                    return Err(error(format!(
                        "unknown :f :{other} (expected get, put or append)"
                    )))
                }
            };
            pairer.invoke(line, process, input)
        }
        "ok" | "fail" | "info" => {
            let invoked = pairer.pending_input(line, process)?;
            let (invoked_f, invoked_key) = match invoked {
                KvInput::Get { key } => ("get", key),
                KvInput::Put { key, .. } => ("put", key),
                KvInput::Append { key, .. } => ("append", key),
            };
            if f != invoked_f || key != *invoked_key {
                return Err(error(format!(
                    "process {process} completes :{f} {key:?} but invoked :{invoked_f} {invoked_key:?}"
                )));
            }
            match kind.as_str() {
                "ok" => {
                    // Only a get has a meaningful output; put and append return nothing.
                    let output = if f == "get" {
                        value.ok_or_else(|| {
                            error("an :ok get needs the string it read as :value".into())
                        })?
                    } else {
                        String::new()
                    };
                    pairer.ok(line, process, output)
                }
                "fail" => pairer.fail(line, process),
                _ => pairer.info(line, process),
            }
        }
        other => Err(error(format!(
            "unknown :type :{other} (expected invoke, ok, fail or info)"
        ))),
    }
}

/// A value in the map.
#[derive(Debug, PartialEq)]
enum Value {
    Int(i64),
    Keyword(String),
    Str(String),
    Nil,
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Keyword(k) => write!(f, ":{k}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Nil => write!(f, "nil"),
        }
    }
}

/// Reads `{:name value, ...}` (EDN treats commas as whitespace). Returns a message on error.
fn read_map(line: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut chars = line.trim().chars().peekable();
    if chars.next() != Some('{') {
        return Err("expected a line starting with '{'".to_string());
    }
    let mut fields = BTreeMap::new();
    loop {
        skip_separators(&mut chars);
        match chars.peek() {
            Some('}') => {
                chars.next();
                break;
            }
            Some(':') => {}
            Some(c) => return Err(format!("expected a :field name or '}}', found {c:?}")),
            None => return Err("unterminated map: missing '}'".to_string()),
        }
        let Value::Keyword(name) = read_value(&mut chars)? else {
            return Err("expected a :field name".to_string());
        };
        skip_separators(&mut chars);
        let value = read_value(&mut chars)?;
        if fields.insert(name.clone(), value).is_some() {
            return Err(format!("field :{name} appears twice"));
        }
    }
    skip_separators(&mut chars);
    if let Some(c) = chars.next() {
        return Err(format!("unexpected {c:?} after the closing '}}'"));
    }
    Ok(fields)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_separators(chars: &mut Chars) {
    while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
}

/// Reads one value: a keyword, a string, an integer or nil.
fn read_value(chars: &mut Chars) -> Result<Value, String> {
    match chars.peek().copied() {
        None => Err("unexpected end of line".to_string()),
        Some('"') => {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated string".to_string()),
                    Some('"') => return Ok(Value::Str(s)),
                    Some('\\') => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some(c @ ('"' | '\\')) => s.push(c),
                        Some(c) => return Err(format!("unknown escape \\{c} in string")),
                        None => return Err("unterminated string".to_string()),
                    },
                    Some(c) => s.push(c),
                }
            }
        }
        Some(_) => {
            let mut word = String::new();
            while let Some(c) =
                chars.next_if(|c| !c.is_whitespace() && !matches!(c, ',' | '{' | '}' | '"'))
            {
                word.push(c);
            }
            if let Some(name) = word.strip_prefix(':') {
                if name.is_empty() {
                    return Err("empty keyword ':'".to_string());
                }
                Ok(Value::Keyword(name.to_string()))
            } else if word == "nil" {
                Ok(Value::Nil)
            } else if let Ok(i) = word.parse() {
                Ok(Value::Int(i))
            } else if word.is_empty() {
                Err(format!(
                    "unexpected {:?}",
                    chars.peek().copied().unwrap_or(' ')
                ))
            } else {
                Err(format!(
                    "cannot read {word:?} (expected a keyword, string, number or nil)"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_operations_and_pairs_them() {
        let text = "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"a\"}\n\
                    {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n\
                    \n\
                    {:process 0, :type :ok, :f :put, :key \"k\", :value \"a\"}\n\
                    {:process 1, :type :ok, :f :get, :key \"k\", :value \"a\\\"b\"}\n\
                    {:process 2, :type :invoke, :f :append, :key \"k\", :value \"c\"}\n";
        let ops = parse(text).unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            ops[0],
            Operation::returned(0, KvInput::put("k", "a"), 1, String::new(), 4)
        );
        assert_eq!(
            ops[1],
            Operation::returned(1, KvInput::get("k"), 2, "a\"b".into(), 5)
        );
        assert_eq!(ops[2], Operation::no_reply(2, KvInput::append("k", "c"), 6));
    }

    #[test]
    fn errors_name_the_line() {
        let bad = [
            (
                "{:process 0, :type :invoke, :f :get, :key \"k\"",
                "missing '}'",
            ),
            (
                "{:process 0, :type :ok, :f :get, :key \"k\", :value \"\"}",
                "never invoked",
            ),
            (
                "{:process 0, :type :invoke, :f :cas, :key \"k\", :value nil}",
                "unknown :f",
            ),
            (
                "{:process 0, :type :invoke, :f :put, :key \"k\", :value nil}",
                "needs a :value",
            ),
            ("{:process x, :type :invoke}", "cannot read"),
            ("get k", "expected a line starting"),
        ];
        for (line, expected) in bad {
            let text = format!("{{:process 9, :type :invoke, :f :get, :key \"a\"}}\n{line}\n");
            let error = parse(&text).unwrap_err();
            assert_eq!(error.line, Some(2), "{line}: {error}");
            assert!(error.message.contains(expected), "{line}: {error}");
        }
        assert_eq!(parse("\n\n").unwrap_err().line, None);
    }
}

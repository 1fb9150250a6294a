//! A single register with read, write and compare-and-set: the object Jepsen tested in etcd.
//!
//! The register starts absent (reads return `nil`, shown as `None`). A write sets it; a
//! compare-and-set `cas(from, to)` sets it to `to` if it holds `from`. Jepsen reports a cas that
//! found another value as `:fail` (it did not take effect), which here is the output
//! `Cas { succeeded: false }`: legal only if the register did not hold `from`. This is
//! porcupine's etcd model, so verdicts agree with it.

use crate::model::Model;
use serde::{Deserialize, Serialize};

/// An operation on the register.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Set the value.
    Write(i64),
    /// Set the value to `to` if it is `from`.
    Cas {
        /// The value expected.
        from: i64,
        /// The value to set.
        to: i64,
    },
}

/// What the client was told.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterOutput {
    /// The value read (`None`: absent).
    Read(Option<i64>),
    /// The write was acknowledged.
    Written,
    /// Whether the compare-and-set took effect.
    Cas {
        /// True if the register held `from` and now holds `to`.
        succeeded: bool,
    },
}

/// The register's sequential specification; the state is its value (`None`: absent).
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<i64>> {
        match (input, output) {
            (RegisterInput::Read, None) => Some(*state),
            (RegisterInput::Read, Some(RegisterOutput::Read(value))) => {
                (value == state).then_some(*state)
            }
            (RegisterInput::Write(value), None | Some(RegisterOutput::Written)) => {
                Some(Some(*value))
            }
            (RegisterInput::Cas { from, to }, output) => {
                let matches = *state == Some(*from);
                match output {
                    // Unknown outcome: if it takes effect at all, it behaves like a cas.
                    None => Some(if matches { Some(*to) } else { *state }),
                    Some(RegisterOutput::Cas { succeeded }) if *succeeded == matches => {
                        Some(if matches { Some(*to) } else { *state })
                    }
                    _ => None,
                }
            }
            // An output of the wrong kind for the input can't happen.
            _ => None,
        }
    }

    fn describe_operation(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        let input = match input {
            RegisterInput::Read => "read".to_string(),
            RegisterInput::Write(value) => format!("write({value})"),
            RegisterInput::Cas { from, to } => format!("cas({from}, {to})"),
        };
        match output {
            None => format!("{input} -> ?"),
            Some(RegisterOutput::Read(value)) => format!("{input} -> {}", show(value)),
            Some(RegisterOutput::Written) => input,
            Some(RegisterOutput::Cas { succeeded: true }) => format!("{input} -> ok"),
            Some(RegisterOutput::Cas { succeeded: false }) => format!("{input} -> fail"),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        show(state)
    }
}

fn show(value: &Option<i64>) -> String {
    value.map_or_else(|| "nil".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_follows_the_specification() {
        let m = RegisterModel;
        let read = |v| Some(RegisterOutput::Read(v));
        assert_eq!(
            m.step(&None, &RegisterInput::Read, read(None).as_ref()),
            Some(None)
        );
        assert_eq!(
            m.step(&None, &RegisterInput::Read, read(Some(1)).as_ref()),
            None
        );
        let s = m.step(&None, &RegisterInput::Write(3), None).unwrap();
        assert_eq!(s, Some(3));
        let cas = RegisterInput::Cas { from: 3, to: 4 };
        let ok = RegisterOutput::Cas { succeeded: true };
        let fail = RegisterOutput::Cas { succeeded: false };
        assert_eq!(m.step(&s, &cas, Some(&ok)), Some(Some(4)));
        assert_eq!(m.step(&s, &cas, Some(&fail)), None);
        assert_eq!(m.step(&Some(1), &cas, Some(&fail)), Some(Some(1)));
        assert_eq!(m.step(&Some(1), &cas, Some(&ok)), None);
        assert_eq!(m.step(&Some(1), &cas, None), Some(Some(1)));
        assert_eq!(m.step(&s, &cas, None), Some(Some(4)));
        assert_eq!(m.step(&s, &RegisterInput::Read, Some(&ok)), None);
    }
}

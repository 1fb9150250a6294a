//! HTML visualization (placeholder).
use crate::{Model, Operation, Outcome};
pub fn render_html<M: Model>(_m: &M, _h: &[Operation<M::Input, M::Output>], _o: &Outcome) -> String { String::new() }
pub fn write_html<M: Model>(m: &M, h: &[Operation<M::Input, M::Output>], o: &Outcome, path: impl AsRef<std::path::Path>) -> std::io::Result<()> { std::fs::write(path, render_html(m, h, o)) }

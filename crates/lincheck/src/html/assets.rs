//! The page's fixed parts: its head with the inline style sheet, the legend, and the small
//! inline script that highlights an operation everywhere it appears while hovered.

pub(crate) const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lincheck</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
.summary { font-family: monospace; padding: .6em; border-radius: 4px; }
.summary.fail { background: #fdecea; } .summary.pass { background: #e8f5e9; }
details { margin: 1em 0; } summary { cursor: pointer; font-size: 15px; }
.scroll { overflow-x: auto; border: 1px solid #ddd; padding: 6px 0; }
svg text { font: 11px monospace; }
.client { fill: #555; } .tick { fill: #888; font-size: 10px; } .axis { stroke: #bbb; }
.op rect { fill: #e3e8f0; stroke: #8a94a6; }
.op.lin rect { fill: #c8e6c9; stroke: #2e7d32; }
.op.lin text { font-weight: bold; }
.op.stuck rect { fill: #ffcdd2; stroke: #c62828; stroke-width: 2; }
.op.open rect { stroke-dasharray: 4 3; }
.op.hl rect, .op:hover rect { stroke: #ff9800; stroke-width: 3; }
table { border-collapse: collapse; margin: .5em 0; font-family: monospace; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
tr.stuck td { background: #ffebee; } tr.hl td { background: #fff3e0; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border: 1px solid; }
.note { color: #666; }
.reason { font-family: monospace; background: #fdecea; padding: .6em; border-radius: 4px; }
</style></head><body>
"#;

pub(crate) const LEGEND: &str = r#"<p class="legend">
<span style="background:#c8e6c9;border-color:#2e7d32">#n: linearized n-th</span>
<span style="background:#ffcdd2;border-color:#c62828">could not be linearized next</span>
<span style="background:#e3e8f0;border-color:#8a94a6">other</span>
<span style="border-style:dashed">never returned</span>
Hover over an operation for details; columns are event times in order.</p>
"#;

pub(crate) const TAIL: &str = r#"<script>
// Highlight every element (box or table row) that shows the operation under the mouse.
document.querySelectorAll('[data-op]').forEach(function (el) {
  var all = document.querySelectorAll('[data-op="' + el.dataset.op + '"]');
  el.addEventListener('mouseenter', function () { all.forEach(function (e) { e.classList.add('hl'); }); });
  el.addEventListener('mouseleave', function () { all.forEach(function (e) { e.classList.remove('hl'); }); });
});
</script>
</body></html>
"#;

//! JUnit XML, the test report CI systems read: one `<testsuite>` per lab part, one
//! `<testcase>` per test, a `<failure>` with the seeds, reasons and replay commands of the
//! runs that failed.

use std::fmt::Write as _;

use super::TestGrade;

/// The report's text for these grades.
pub fn render(grades: &[TestGrade]) -> String {
    let failures = grades.iter().filter(|g| !g.passed()).count();
    let time: f64 = grades.iter().map(TestGrade::wall_secs).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"6.5840 labs\" tests=\"{}\" failures=\"{failures}\" time=\"{time:.3}\">",
        grades.len()
    );
    let mut parts: Vec<&str> = Vec::new();
    for grade in grades {
        if !parts.contains(&grade.part.as_str()) {
            parts.push(&grade.part);
        }
    }
    for part in parts {
        let suite: Vec<&TestGrade> = grades.iter().filter(|g| g.part == part).collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
            escape(&suite[0].package),
            escape(part),
            suite.len(),
            suite.iter().filter(|g| !g.passed()).count(),
            suite.iter().map(|g| g.wall_secs()).sum::<f64>()
        );
        for grade in suite {
            let (module, name) = match grade.name.rsplit_once("::") {
                Some((module, name)) => (format!("{}::{module}", grade.package), name),
                None => (grade.package.clone(), grade.name.as_str()),
            };
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&module),
                escape(name),
                grade.wall_secs()
            );
            if grade.passed() {
                out.push_str("/>\n");
                continue;
            }
            let first = grade
                .runs
                .iter()
                .find(|r| !r.passed)
                .and_then(|r| r.reason.clone())
                .unwrap_or_else(|| "failed".into());
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                escape(&first),
                escape(&grade.output)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text as XML character data or an attribute value. Characters XML 1.0 cannot hold (most
/// control characters, such as a terminal's colour escapes) are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{grade, tests::run};
    use super::*;

    #[test]
    fn a_suite_per_part_and_failures_escaped() {
        let mut failing = run("raft", "election::b_2a", "2A", 7, false);
        failing.reason = Some("expected <one> leader & \u{1b}[31mgot none".into());
        let results = vec![
            run("raft", "election::a_2a", "2A", 7, true),
            failing,
            run("kvraft", "basic_3a", "3A", 7, true),
        ];
        let xml = render(&grade(&results));
        assert!(xml.contains("<testsuites name=\"6.5840 labs\" tests=\"3\" failures=\"1\""));
        assert!(xml.contains("<testsuite name=\"raft 2A\" tests=\"2\" failures=\"1\""));
        assert!(xml.contains("<testsuite name=\"kvraft 3A\" tests=\"1\" failures=\"0\""));
        assert!(
            xml.contains("<testcase classname=\"raft::election\" name=\"a_2a\" time=\"0.500\"/>")
        );
        assert!(
            xml.contains("<failure message=\"expected &lt;one&gt; leader &amp; [31mgot none\">")
        );
        assert!(!xml.contains('\u{1b}'));
        assert_eq!(xml.matches("<testcase").count(), 3);
        assert_eq!(xml.matches("</testsuite>").count(), 2);
    }
}

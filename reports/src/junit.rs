//! `junit.xml`: one testcase per threshold, so CI systems that read JUnit
//! show which limit a run broke.

use std::fmt::Write as _;

use genbench_model::RunResult;

use crate::escape::xml;
use crate::fmt::enum_name;

/// Renders `junit.xml`.
pub fn junit(r: &RunResult) -> String {
    let failures = r.thresholds.iter().filter(|t| !t.passed).count();
    let suite = format!("genbench {}", r.scenario.name);
    let class = format!("genbench.{}", r.scenario.name);
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"genbench\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" time=\"{t:.3}\">\n\
<testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{t:.3}\" timestamp=\"{ts}\">",
        n = r.thresholds.len(),
        t = r.duration_s,
        s = xml(&suite),
        ts = xml(&r.started_at),
    );
    let _ = writeln!(
        o,
        "<properties>\n<property name=\"status\" value=\"{}\"/>\n<property name=\"target\" value=\"{}\"/>\n<property name=\"requests\" value=\"{}\"/>\n</properties>",
        enum_name(&r.status),
        xml(&r.target.url),
        r.requests.total
    );
    for t in &r.thresholds {
        let seen = crate::fmt::observed(&t.expr, t.observed);
        let _ = write!(
            o,
            "<testcase name=\"{}\" classname=\"{}\" time=\"0\"",
            xml(&t.expr),
            xml(&class)
        );
        if t.passed {
            let _ = writeln!(o, "/>");
        } else {
            let how = if t.inconclusive {
                "was inconclusive"
            } else {
                "failed"
            };
            let msg = format!("{} {how}: observed {seen}", t.expr);
            let _ = writeln!(
                o,
                ">\n<failure message=\"{m}\" type=\"threshold\">{m}</failure>\n</testcase>",
                m = xml(&msg)
            );
        }
    }
    o.push_str("</testsuite>\n</testsuites>\n");
    o
}

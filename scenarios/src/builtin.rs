//! The built-in scenarios, embedded so `genbench run baseline` needs no files.

use crate::{Scenario, ScenarioError};

pub const BUILTIN_NAMES: [&str; 7] = [
    "baseline", "stress", "spike", "soak", "llm", "ci", "workflow",
];

fn text(name: &str) -> Option<&'static str> {
    Some(match name {
        "baseline" => include_str!("../builtin/baseline.toml"),
        "stress" => include_str!("../builtin/stress.toml"),
        "spike" => include_str!("../builtin/spike.toml"),
        "soak" => include_str!("../builtin/soak.toml"),
        "llm" => include_str!("../builtin/llm.toml"),
        "ci" => include_str!("../builtin/ci.toml"),
        "workflow" => include_str!("../builtin/workflow.toml"),
        _ => return None,
    })
}

fn read(file: &str) -> Result<String, String> {
    match file {
        "topics.txt" => Ok(include_str!("../builtin/topics.txt").to_string()),
        other => Err(format!("built-in scenarios have no file `{other}`")),
    }
}

/// A built-in scenario by name; `None` for unknown names.
pub fn builtin(name: &str) -> Option<Result<Scenario, ScenarioError>> {
    builtin_overridden(name, &[])
}

/// A built-in scenario with `--set` overrides applied.
pub fn builtin_overridden(
    name: &str,
    overrides: &[crate::Override],
) -> Option<Result<Scenario, ScenarioError>> {
    text(name).map(|t| Scenario::parse_overridden(t, &format!("builtin:{name}"), &read, overrides))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use genbench_model::ScenarioKind;

    use super::*;
    use crate::Load;

    fn baseline_load() -> Load {
        builtin("baseline").unwrap().unwrap().load
    }

    #[test]
    fn every_builtin_validates_and_fits_a_first_run() {
        for name in BUILTIN_NAMES {
            let s = builtin(name).unwrap().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.name, name);
            assert!(s.datasets["topic"].rows.len() >= 50);
            assert!(s.duration() <= Duration::from_secs(600));
        }
        let llm = builtin("llm").unwrap().unwrap();
        assert!(matches!(llm.load, Load::Closed { .. }));
        assert_eq!(llm.embedded, crate::EmbeddedTarget::Mock);
        assert_eq!(llm.objectives.ttft_ms, Some(1000.0));
        assert!(matches!(baseline_load(), Load::Open { .. }));
        let baseline = builtin("baseline").unwrap().unwrap();
        assert_eq!(baseline.kind, ScenarioKind::Baseline);
        assert!(baseline.duration() <= Duration::from_secs(60));
        assert_eq!(
            builtin("stress")
                .unwrap()
                .unwrap()
                .slo
                .unwrap()
                .thresholds
                .len(),
            2
        );
        assert_eq!(
            builtin("soak").unwrap().unwrap().duration(),
            Duration::from_secs(600)
        );
        assert!(builtin("nope").is_none());
    }
}

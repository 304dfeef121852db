//! `genbench ab`'s arguments.

use std::path::PathBuf;

use clap::Args;

use super::RunOptions;

#[derive(Debug, Args)]
#[command(after_help = "\
A TARGET is one of:
  embedded          genbench's embedded target (the reference pipeline on mocks);
                    its settings differ by --a-set / --b-set
  http://HOST:PORT  a service already running (https:// too)
  COMMAND           a shell command that starts the service on the port genbench
                    gives it: {port} in the command (also $PORT). genbench starts it
                    before each run, waits until the port accepts connections, and
                    stops its process group after, so each run meets a fresh process

Rounds run A B, B A, A B, ... on this machine, so drift (a neighbour's load, a
warming disk) falls on both sides alike. Then B is gated against A exactly as
`genbench gate` does, with the same outputs and exit codes: 0 nothing regressed,
1 a regression, 2 the sides cannot be compared, 3 a run could not be made.

Examples:
  genbench ab ci --a embedded --b embedded --b-set pipeline.extra_delay_ms.llm=70
  genbench ab scenario.toml --rounds 5 \\
      --a 'main/target/release/my-service --port {port}' \\
      --b 'pr/target/release/my-service --port {port}'
  genbench ab scenario.toml --a http://127.0.0.1:8000 --b http://127.0.0.1:8001")]
pub struct AbArgs {
    /// Built-in scenario name or scenario file (the `ci` built-in is made
    /// for this: seeded, one user, the same requests every run).
    #[arg(default_value = "ci")]
    pub scenario: String,
    /// The baseline: embedded, a URL, or a command with {port}.
    #[arg(long, value_name = "TARGET")]
    pub a: String,
    /// The candidate gated against A: embedded, a URL, or a command with {port}.
    #[arg(long, value_name = "TARGET")]
    pub b: String,
    /// Scenario overrides for A's runs only (KEY=VALUE, repeatable).
    #[arg(long = "a-set", value_name = "KEY=VALUE")]
    pub a_set: Vec<String>,
    /// Scenario overrides for B's runs only (KEY=VALUE, repeatable).
    #[arg(long = "b-set", value_name = "KEY=VALUE")]
    pub b_set: Vec<String>,
    /// Runs per side; the sides alternate A B, B A, ...
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub rounds: u32,
    /// How long a COMMAND target has to accept connections on its port.
    #[arg(long, value_name = "D", default_value = "60s")]
    pub ready_timeout: String,
    /// Output directory: a/run-N/, b/run-N/, gate.json (default
    /// genbench-out/ab-<scenario>-<time>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Gate rules overriding the defaults (gate.toml, as `genbench gate --rules`).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Also write the gate's JUnit XML here (one testcase per metric).
    #[arg(long = "gate-junit", value_name = "FILE")]
    pub gate_junit: Option<PathBuf>,
    /// Also write the gate's Markdown here (fits $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    #[command(flatten)]
    pub opts: RunOptions,
}

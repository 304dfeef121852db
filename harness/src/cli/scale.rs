//! The scale-out subcommands' arguments: `merge` and `k8s`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct K8sArgs {
    #[command(subcommand)]
    pub command: K8sCommand,
}

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// The Indexed Job that runs a scenario's load as N segments, one a pod.
    Job(Box<K8sJobArgs>),
    /// The Job that merges a finished run's parts on the claim.
    Merge(K8sMergeArgs),
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Prints a one-pod Job running `genbench merge /results/NAME --out
/results/NAME-merged --junit` on the claim the segments wrote to. Apply it
once the segments' Job has completed:

  kubectl wait --for=condition=complete --timeout=1h job/genbench-stress
  genbench k8s merge genbench-stress | kubectl apply -f -")]
pub struct K8sMergeArgs {
    /// The segments' Job (its name, as `genbench k8s job` gave it).
    pub name: String,
    #[arg(long, value_name = "IMAGE", default_value = "genbench:latest")]
    pub image: String,
    #[arg(long)]
    pub namespace: Option<String>,
    #[arg(long, value_name = "PVC", default_value = "genbench-results")]
    pub claim: String,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Prints (or writes with --out) an Indexed Job: completions = parallelism = N,
pod I runs `genbench run SCENARIO --segments N --target URL --start-at T`
(JOB_COMPLETION_INDEX gives I) and writes its part to the claim under
/results/NAME/part-I. backoffLimitPerIndex is 0 and restartPolicy Never: a
failed pod is never tried again, since a second try would send its
segment's load twice. A scenario file travels in a ConfigMap; a built-in
needs nothing. The scenario, --set and --target are validated first.

${env:NAME} in --target or in the scenario's headers and bodies is resolved
in each pod, from the Secrets named with --env-from-secret; one without a
default and no Secret named is refused here, not in 100 pods later.

Examples:
  genbench k8s job stress --segments 8 --target https://staging.example.com/api > job.yaml
  kubectl apply -f job.yaml
  kubectl wait --for=condition=complete --timeout=1h job/genbench-stress

  kubectl create secret generic staging-api --from-literal=GATEWAY_API_KEY=...
  genbench k8s job scenarios/examples/https-gateway.toml --segments 4 \\
      --target https://gateway.staging.example.com --env-from-secret staging-api > job.yaml")]
pub struct K8sJobArgs {
    /// Built-in scenario name or scenario file.
    pub scenario: String,
    /// Segments: pods, each sending an exact 1/N of the load.
    #[arg(long, value_name = "N")]
    pub segments: u32,
    /// The service under test, as the pods reach it; may use ${env:NAME}
    /// (resolved in the pods).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// The genbench image (deploy/k8s/Containerfile builds one).
    #[arg(long, value_name = "IMAGE", default_value = "genbench:latest")]
    pub image: String,
    /// Start the load this long after now, for the pods to be scheduled.
    #[arg(long, value_name = "D", default_value = "2m")]
    pub start_in: String,
    /// Start the load at this instant instead (RFC 3339).
    #[arg(long, value_name = "TIME", conflicts_with = "start_in")]
    pub start_at: Option<String>,
    /// The Job's name (default genbench-SCENARIO).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub namespace: Option<String>,
    /// The ReadWriteMany PersistentVolumeClaim the parts are written to.
    #[arg(long, value_name = "PVC", default_value = "genbench-results")]
    pub claim: String,
    /// A scenario key to change in every pod (repeatable), as for run.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// A Secret whose keys become the pods' environment (repeatable): how
    /// the ${env:NAME} in --target, headers and bodies reach the pods.
    #[arg(long, value_name = "SECRET")]
    pub env_from_secret: Vec<String>,
    /// Each pod serves live Prometheus metrics on this port
    /// (--metrics-listen 0.0.0.0:PORT), with prometheus.io/scrape, port and
    /// path annotations on the pods, so the pods of one run sum in PromQL.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub metrics_port: Option<u16>,
    /// Write the manifests here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// yaml (documents), or json (one v1 List); kubectl applies either.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: ManifestFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ManifestFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Each PART is a segment's results.json, a directory holding one, or a
directory whose subdirectories do (the k8s layout: /results/NAME/part-I/).
The parts must be every segment of one run: the same scenario (its hash),
seed and segment count, each index once; otherwise nothing is merged and
the missing, duplicated or foreign part is named (exit 2).

Histograms are added (latency, TTFB, chunk gaps, TTFT/TPOT/ITL, stages, flow
latency), never percentiles averaged; counts are summed; rates are over the
common load window; timelines are aligned by wall clock (each part's start
instant), each second's percentiles from the parts' interval logs added. Cost from a shared mock
ledger is the widest segment's reading (each read the whole run's spend),
cost from responses is summed. Thresholds are judged on the merged result;
exit 1 if one fails, as a run.

Example:
  genbench merge /results/genbench-stress --out merged")]
pub struct MergeArgs {
    /// The segments' results (files or directories).
    #[arg(value_name = "PART", required = true)]
    pub parts: Vec<PathBuf>,
    /// Where results.json, report.html and summary.md go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write junit.xml.
    #[arg(long)]
    pub junit: bool,
}

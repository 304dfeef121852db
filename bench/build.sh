#!/usr/bin/env bash
# What a clean release build costs, and what it could cost at best.
# Not a test: it prints figures.
#
# 1. `cargo build --release --timings -p genbench` into an empty target
#    directory: wall and CPU time, the binary's size as built and stripped,
#    and the units that took longest.
# 2. The floor: a crate of one `main` that touches each crate genbench's
#    guide names (tokio, hyper, rustls with ring, hdrhistogram, sysinfo,
#    pprof, plotters, serde, clap, opentelemetry, prometheus-client, prost),
#    built with this workspace's Cargo.lock and release profile. No build
#    of genbench can be quicker than its dependencies alone; with FLOOR=full
#    the floor adds axum and reqwest too.
#
# Usage: bench/build.sh   Env: FLOOR (named|full, default named),
#        SKIP_GENBENCH=1 (the floor only)
# Needs the crates in cargo's cache or the registry (the floor crate is
# built in a temporary directory with the workspace's lock file).
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOR=${FLOOR:-named}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

timed() { # label, command...: prints wall and user+sys seconds
    local label=$1
    shift
    /usr/bin/time -f "%e %U %S" -o "$OUT/time" "$@" >"$OUT/$label.log" 2>&1
    read -r wall user sys <"$OUT/time"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" \
        'BEGIN { printf "%-26s wall %6.1f s   CPU %6.1f s (user + system)\n", l, w, u + s }'
}

top_units() { # the timings report's longest units
    python3 - "$1" <<'PY'
import glob, json, re, sys
f = sorted(glob.glob(sys.argv[1] + "/cargo-timings/cargo-timing-*.html"))[-1]
d = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(f).read(), re.S).group(1))
ws = sum(u["duration"] for u in d if u["name"].startswith("genbench"))
print(f"  {len(d)} units, {sum(u['duration'] for u in d):.0f} s of unit time, the workspace's {ws:.0f} s")
for u in sorted(d, key=lambda u: -u["duration"])[:12]:
    print(f"  {u['duration']:6.1f} s  {u['name']} {u['target'].strip()}")
PY
}

if [ -z "${SKIP_GENBENCH:-}" ]; then
    timed "genbench (clean release)" env CARGO_TARGET_DIR="$OUT/target" \
        cargo build --release --timings -p genbench
    bin="$OUT/target/release/genbench"
    strip -o "$OUT/stripped" "$bin"
    awk -v a="$(stat -c %s "$bin")" -v b="$(stat -c %s "$OUT/stripped")" \
        'BEGIN { printf "  binary %.1f MB as built, %.1f MB stripped\n", a / 1e6, b / 1e6 }'
    top_units "$OUT/target"
fi

mkdir -p "$OUT/floor/src"
cp Cargo.lock "$OUT/floor/"
extra=""
[ "$FLOOR" = full ] && extra='axum = "0.8"
reqwest = { version = "0.13.5", default-features = false, features = ["json", "stream", "rustls-no-provider", "http2"] }'
cat >"$OUT/floor/Cargo.toml" <<EOF
[package]
name = "floor"
version = "0.1.0"
edition = "2024"

[dependencies]
tokio = { version = "1.54.1", features = ["full"] }
hyper = { version = "1.12.0", features = ["client", "server", "http1", "http2"] }
hyper-util = { version = "0.1.21", features = ["tokio"] }
rustls = { version = "0.23.46", default-features = false, features = ["ring", "std", "tls12"] }
tokio-rustls = { version = "0.26.6", default-features = false, features = ["ring", "tls12"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
clap = { version = "4.6.9", features = ["derive"] }
hdrhistogram = "7.6.0"
sysinfo = { version = "0.40", default-features = false, features = ["system"] }
pprof = { version = "0.15", features = ["flamegraph"] }
plotters = { version = "0.3.7", default-features = false, features = ["svg_backend", "line_series"] }
opentelemetry = { version = "0.33", default-features = false, features = ["trace"] }
opentelemetry_sdk = { version = "0.33", default-features = false, features = ["trace"] }
opentelemetry-otlp = { version = "0.33", default-features = false, features = ["trace", "http-proto"] }
opentelemetry-proto = { version = "0.33", default-features = false, features = ["gen-tonic-messages", "trace", "metrics", "with-serde"] }
prost = "0.14"
prometheus-client = "0.26"
$extra

[profile.release]
debug = false
EOF
cat >"$OUT/floor/src/main.rs" <<'EOF'
use clap::Parser;
#[derive(Parser, serde::Serialize)]
struct A {
    #[arg(long, default_value_t = 1)]
    n: u64,
}
#[tokio::main]
async fn main() {
    let a = A::parse();
    let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    h.record(a.n).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Ok(mut s) = sysinfo::System::new() {
        s.refresh_memory();
    }
    let g = pprof::ProfilerGuardBuilder::default().build().unwrap();
    if let Ok(r) = g.report().build() {
        let _ = r.flamegraph(std::io::sink());
    }
    let mut reg = prometheus_client::registry::Registry::default();
    let c: prometheus_client::metrics::counter::Counter = Default::default();
    reg.register("x", "x", c);
    let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::default();
    let _ = prost::Message::encode_to_vec(&req);
    let _ = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let _ = opentelemetry_otlp::SpanExporter::builder().with_http();
    println!("{}", serde_json::to_string(&a).unwrap());
    let mut svg = String::new();
    drop(plotters::prelude::SVGBackend::with_string(&mut svg, (10, 10)));
    let _ = hyper_util::rt::TokioIo::new(tokio::io::empty());
    let roots = rustls::RootCertStore::empty();
    let cfg = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let _ = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let _ = hyper::Method::GET;
}
EOF
(cd "$OUT/floor" && cargo fetch -q)
(cd "$OUT/floor" && timed "floor ($FLOOR crates)" cargo build --release --timings)
top_units "$OUT/floor/target"

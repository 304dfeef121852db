# Shared by the bench scripts (sourced, not run).

# Runs a command pinned to core 1, its stdout into $CLIENT_OUT; prints its
# CPU seconds (user + system, getrusage of the child). With RSS_LOG set,
# samples the command's RSS (KiB) each second into that file.
measure() {
    python3 - "$@" <<'PY'
import os, resource, subprocess, sys, time
p = subprocess.Popen(["taskset", "-c", "1"] + sys.argv[1:], stdout=open(os.environ["CLIENT_OUT"], "w"), stderr=subprocess.DEVNULL)
log = os.environ.get("RSS_LOG")
samples = []
while p.poll() is None:
    time.sleep(1)
    if log:
        try:
            # taskset execs the client, so the pid is the client's.
            rss = next(l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS"))
            samples.append(int(rss.split()[1]))
        except (OSError, StopIteration):
            pass
if log:
    open(log, "w").write(" ".join(map(str, samples)))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)
PY
}

# A free loopback port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Installs Debian packages that are missing: `need_debs CMD:PACKAGE ...`.
need_debs() {
    local missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair#*:}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} (Debian packages)" >&2
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Starts nginx (one worker, `return 200`) on a free loopback port, pinned
# to core 0, with its files in directory $1, and sets URL. Needs $NGINX;
# the caller's EXIT trap stops it by $1/nginx.pid.
start_nginx() {
    local dir=$1 port
    port=$(free_port)
    cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
NGINX
    taskset -c 0 "$NGINX" -c "$dir/nginx.conf" -p "$dir"
    URL="http://127.0.0.1:$port"
    for _ in $(seq 50); do curl -sf "$URL/" >/dev/null && break; sleep 0.1; done
}

# Runs `FUNC ARG` for each ARG, at most MAX at a time: `each_parallel MAX
# FUNC ARG...`; returns when all have ended.
each_parallel() {
    local max=$1 fn=$2 running=0 a
    shift 2
    for a in "$@"; do
        "$fn" "$a" &
        running=$((running + 1))
        if [ "$running" -ge "$max" ]; then
            wait -n || true
            running=$((running - 1))
        fi
    done
    wait
}

# Sets GENBENCH to a copy, in directory $1, of $GENBENCH if set, else of a
# fresh release build: a rebuild while a long bench runs must not change
# what it runs.
bench_binary() {
    if [ -z "${GENBENCH:-}" ]; then
        cargo build --release -q -p genbench
        GENBENCH=target/release/genbench
    fi
    cp "$GENBENCH" "$1/genbench"
    GENBENCH=$1/genbench
}

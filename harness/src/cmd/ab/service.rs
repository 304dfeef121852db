//! A side's target: the embedded one, a URL, or a command genbench starts
//! on a port it picks and stops after each run.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};

/// What `--a` / `--b` named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Embedded,
    Url(String),
    /// A shell command with `{port}` (or `$PORT`) in it.
    Command(String),
}

impl Target {
    pub fn parse(flag: &str, spec: &str) -> anyhow::Result<Target> {
        let spec = spec.trim();
        if spec == "embedded" {
            return Ok(Target::Embedded);
        }
        if spec.starts_with("http://") || spec.starts_with("https://") {
            return Ok(Target::Url(spec.to_string()));
        }
        if spec.contains("{port}") || spec.contains("$PORT") || spec.contains("${PORT}") {
            return Ok(Target::Command(spec.to_string()));
        }
        bail!(
            "{flag} '{spec}': give `embedded`, a URL (http://127.0.0.1:8000), or a command that \
             listens on the port genbench gives it, with {{port}} where the port goes \
             (e.g. {flag} './my-service --port {{port}}')"
        )
    }
}

/// A command target, running: its process group is stopped on drop.
pub struct Service {
    child: Child,
    pub url: String,
}

impl Service {
    /// The shell's pid: the process tree genbench's CPU and RSS collectors
    /// follow (children included), so `cpu_per_request` is gated too.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A free loopback port: bound, read, and released for the command.
fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free loopback port")?;
    Ok(l.local_addr()?.port())
}

impl Service {
    /// Starts `command` with its port and waits until it accepts
    /// connections, or fails naming the command and what it did.
    pub fn start(command: &str, ready_within: Duration) -> anyhow::Result<Service> {
        let port = free_port()?;
        let line = command.replace("{port}", &port.to_string());
        let child = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            // Its own process group: stopping it stops what it started.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start `{line}`"))?;
        let mut service = Service {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + ready_within;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(service);
            }
            if let Some(status) = service.child.try_wait()? {
                bail!("`{line}` exited ({status}) before it listened on port {port}");
            }
            if Instant::now() > deadline {
                return Err(anyhow!(
                    "`{line}` did not accept connections on 127.0.0.1:{port} within {} s \
                     (--ready-timeout); does it listen on {{port}}?",
                    ready_within.as_secs_f64()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let group = -(self.child.id() as i32);
        // SIGTERM to the whole group, then SIGKILL if it lingers.
        // SAFETY: kill(2) with a process group id; no memory is involved.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_told_apart_and_a_command_without_a_port_says_how() {
        assert_eq!(Target::parse("--a", "embedded").unwrap(), Target::Embedded);
        assert_eq!(
            Target::parse("--a", "http://127.0.0.1:8000").unwrap(),
            Target::Url("http://127.0.0.1:8000".into())
        );
        assert!(matches!(
            Target::parse("--b", "./svc --port {port}").unwrap(),
            Target::Command(_)
        ));
        let e = Target::parse("--b", "./svc --port 8000")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--b") && e.contains("{port}"), "{e}");
    }

    #[test]
    fn a_command_that_never_listens_is_named_with_what_it_did() {
        let e = Service::start("exit 3 # {port}", Duration::from_secs(5))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("exited") && e.contains("exit status: 3"), "{e}");
        let e = Service::start("sleep 5 # {port}", Duration::from_millis(300))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--ready-timeout"), "{e}");
    }
}

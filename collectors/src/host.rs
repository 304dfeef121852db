//! What machine a run ran on: OS, architecture, cores, CPU model, kernel,
//! memory. Read once, at the start of a run.

use genbench_model::Host;
use sysinfo::{CpuRefreshKind, System};

const MIB: f64 = 1024.0 * 1024.0;

/// This machine. Fields the system will not tell are `None`, never an
/// error: a run does not fail for want of a CPU model name.
pub fn host() -> Host {
    let (mut cpu_brand, mut memory_mib) = (None, None);
    if let Ok(mut sys) = System::new() {
        sys.refresh_cpu_list(CpuRefreshKind::nothing());
        cpu_brand = sys
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty());
        sys.refresh_memory();
        memory_mib = Some(sys.total_memory() as f64 / MIB).filter(|m| *m > 0.0);
    }
    Host {
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.to_string()),
        arch: std::env::consts::ARCH.to_string(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        cpu_brand,
        kernel: System::kernel_version().ok(),
        memory_mib,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_describes_itself() {
        let h = host();
        assert_eq!(h.arch, std::env::consts::ARCH);
        assert!(h.cpus >= 1);
        assert!(!h.os.is_empty());
        if cfg!(target_os = "linux") {
            assert!(h.kernel.is_some());
            assert!(h.memory_mib.is_some_and(|m| m > 16.0), "{h:?}");
        }
    }
}

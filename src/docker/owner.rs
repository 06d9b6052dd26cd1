//! Who made a Docker resource (issue 24, item 6): every container, volume, image and network
//! repoctl creates carries its work directory and the process of its run as labels, so that
//! `repoctl clean` works on one work directory's resources and never on those of a run that is
//! still going, whichever work directory it belongs to.
use camino::Utf8Path;
use std::collections::HashMap;

/// The work directory of the run that made a resource: its absolute path, symlinks resolved
/// when it exists ([`work_dir_label`]).
pub const LABEL_WORK_DIR: &str = "io.repoctl.work-dir";
/// The process of the run that made a resource ([`Process::label`]).
pub const LABEL_PROCESS: &str = "io.repoctl.process";

/// The value of [`LABEL_WORK_DIR`] for the work directory `work`: absolute, with symlinks
/// resolved when it exists, so that `--work-dir .repoctl` and its full path name one directory.
pub fn work_dir_label(work: &Utf8Path) -> String {
    let absolute = std::path::absolute(work.as_std_path()).unwrap_or_else(|_| work.as_std_path().to_path_buf());
    let resolved = std::fs::canonicalize(&absolute).unwrap_or(absolute);
    resolved.to_string_lossy().into_owned()
}

/// A process as [`LABEL_PROCESS`] writes it: `host=NAME boot=ID pid=N start=TICKS`. The host
/// name and the kernel's boot ID (proc(5): `/proc/sys/kernel/random/boot_id`) tell this
/// machine since its last boot from another; the start time (field 22 of `/proc/PID/stat`, in
/// clock ticks since boot) tells the process from a later one given the same pid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    host: String,
    boot: String,
    pid: u32,
    start: u64,
}

/// Whether the run that made a resource is still going, as far as this machine can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Its process is running here: the resource is in use.
    Alive,
    /// Its process ended (or this machine rebooted since): the resource is left over.
    Over,
    /// Its process was on another host (a daemon shared through DOCKER_HOST): it cannot be
    /// checked from here, so it counts as going.
    Elsewhere,
}

impl Process {
    /// This process. None where `/proc` cannot say (not Linux).
    pub fn current() -> Option<Process> {
        Process::of(std::process::id())
    }

    fn of(pid: u32) -> Option<Process> {
        Some(Process { host: host_name(), boot: boot_id()?, pid, start: start_time(pid)? })
    }

    pub fn label(&self) -> String {
        format!("host={} boot={} pid={} start={}", self.host, self.boot, self.pid, self.start)
    }

    /// Reads [`Process::label`]'s text; None when a field is missing or malformed.
    pub fn parse(text: &str) -> Option<Process> {
        let field = |key: &str| text.split_whitespace().find_map(|w| w.strip_prefix(key)?.strip_prefix('='));
        Some(Process {
            host: field("host")?.to_string(),
            boot: field("boot")?.to_string(),
            pid: field("pid")?.parse().ok()?,
            start: field("start")?.parse().ok()?,
        })
    }

    /// Whether this process is still running, judged from this machine ([`Liveness`]).
    pub fn liveness(&self) -> Liveness {
        if self.host != host_name() {
            return Liveness::Elsewhere;
        }
        match Process::of(self.pid) {
            Some(now) if now == *self => Liveness::Alive,
            _ => Liveness::Over,
        }
    }
}

/// Whether the run that made a resource with these labels is still going. From
/// [`LABEL_PROCESS`]; for resources of older repoctl versions, which lack it, from the run ID
/// (`SECS-RANDOM-PID`, `SECS-PID` before: alive when that pid is a process named `repoctl` here). A resource that
/// names neither belongs to no run and is [`Liveness::Over`].
pub fn liveness(labels: &HashMap<String, String>) -> Liveness {
    if let Some(process) = labels.get(LABEL_PROCESS) {
        return Process::parse(process).map_or(Liveness::Over, |p| p.liveness());
    }
    let pid = labels.get(super::LABEL_RUN).and_then(|run| run.rsplit_once('-')?.1.parse::<u32>().ok());
    let named_repoctl =
        |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "repoctl");
    match pid {
        Some(pid) if pid != std::process::id() && named_repoctl(pid) => Liveness::Alive,
        _ => Liveness::Over,
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_string())
}

/// Field 22 of `/proc/PID/stat` (proc_pid_stat(5)), counted after the command name, which
/// is in parentheses and may itself hold spaces and parentheses.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_reads_back() {
        let me = Process::current().expect("Linux /proc");
        assert_eq!(Process::parse(&me.label()), Some(me.clone()));
        assert_eq!(me.liveness(), Liveness::Alive);
        let later = Process { start: me.start + 1, ..me.clone() };
        assert_eq!(later.liveness(), Liveness::Over, "a pid reused by a later process");
        let rebooted = Process { boot: "another-boot".into(), ..me.clone() };
        assert_eq!(rebooted.liveness(), Liveness::Over);
        let elsewhere = Process { host: format!("not-{}", me.host), ..me };
        assert_eq!(elsewhere.liveness(), Liveness::Elsewhere);
        assert_eq!(Process::parse("host=a boot=b pid=x start=1"), None);
    }

    #[test]
    fn resources_without_a_process_label_are_judged_by_their_run() {
        let labels = |run: &str| HashMap::from([(super::super::LABEL_RUN.to_string(), run.to_string())]);
        assert_eq!(liveness(&labels("1-4194303")), Liveness::Over);
        assert_eq!(liveness(&HashMap::new()), Liveness::Over);
        let broken = HashMap::from([(LABEL_PROCESS.to_string(), "garbage".to_string())]);
        assert_eq!(liveness(&broken), Liveness::Over);
    }

    #[test]
    fn a_work_dir_is_labelled_by_its_absolute_resolved_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let resolved = std::fs::canonicalize(&path).unwrap().to_string_lossy().into_owned();
        assert_eq!(work_dir_label(&path), resolved);
        assert!(work_dir_label(Utf8Path::new("not-there")).starts_with('/'));
    }
}

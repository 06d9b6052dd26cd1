//! Linux capabilities of containers: the few every container keeps, and the few a package
//! entry of repo.yaml may add to its own build containers (`capabilities:`, issue #11). Names
//! are bare (`IPC_LOCK`), as Docker's `cap_add` takes them.

/// The capability bounding set of every container: what pacman needs to install packages as
/// root (ownership, permissions, file capabilities; SYS_CHROOT because libalpm chroots into its
/// root, even "/", to run install scriptlets and hooks; SETUID/SETGID for pacman 7's download
/// user and for running commands as `builder`). Dropped: NET_RAW, MKNOD, KILL, AUDIT_WRITE,
/// NET_BIND_SERVICE and everything else.
pub const KEPT_CAPABILITIES: &[&str] =
    &["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "SETFCAP", "SYS_CHROOT"];

/// What a package entry may add to its own build containers, each because some builds or test
/// suites need it and none of them reaches past the container:
///
/// - `IPC_LOCK`: mlock() past RLIMIT_MEMLOCK (crypto libraries and databases lock memory in
///   their tests);
/// - `SYS_NICE`: priorities, real-time scheduling and memory policies (audio, schedulers,
///   NUMA code); Docker's seccomp profile also allows mbind()/set_mempolicy() with it;
/// - `SYS_PTRACE`: debuggers, sanitizers and profilers in check(); Docker's seccomp profile
///   also opens a few more ptrace-related system calls (kcmp() and kin) with it;
/// - `NET_RAW`: raw and packet sockets (ping in test suites); Docker granted it by default.
///   Packet sockets send frames past the build network's routes (`super::network`): a package
///   granted it can reach what those routes keep the others from.
///
/// A grant is in the bounding set of every process of the container and effective for the root
/// steps (installing dependencies, their scriptlets). Docker gives a process started as a
/// non-root user no effective capabilities and `no-new-privileges` keeps it that way, so the
/// build starts makepkg as root and drops to `builder` with the grant in its ambient set
/// (`build::package::as_builder`, setpriv(1)).
///
/// Never granted, whatever repo.yaml says, like every capability not listed here:
/// - `SYS_ADMIN`: mount, namespaces, BPF, and much more; the usual first step out of a container;
/// - `NET_ADMIN`: interfaces, routes and firewall rules of the container's network, so the
///   PKGBUILD could undo or get around what repoctl decided about its network;
/// - `SYS_MODULE`: loading kernel modules is running code in the host's kernel;
/// - `DAC_READ_SEARCH`: open_by_handle_at() reads host files by inode (the "shocker" escape).
pub const GRANTABLE_CAPABILITIES: &[&str] = &["IPC_LOCK", "SYS_NICE", "SYS_PTRACE", "NET_RAW"];

/// Every capability the Linux kernel knows (capabilities(7)), to tell a refused name from a typo.
const LINUX_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// A capability one package's build containers get besides [`KEPT_CAPABILITIES`]. Only
/// [`Capability::parse`] makes one, so it is always one of [`GRANTABLE_CAPABILITIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capability(&'static str);

/// Why a name is not a capability a package may be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    #[error("`{0}` is not a Linux capability")]
    Unknown(String),
    #[error("capability `{0}` is never granted to a build")]
    Refused(&'static str),
    #[error("capability `{0}` is already in every build container")]
    AlreadyKept(&'static str),
}

impl Capability {
    /// `IPC_LOCK` or `CAP_IPC_LOCK` (upper case, as capabilities(7) writes them).
    pub fn parse(name: &str) -> Result<Capability, CapabilityError> {
        let bare = name.strip_prefix("CAP_").unwrap_or(name);
        let find = |list: &[&'static str]| list.iter().copied().find(|c| *c == bare);
        if let Some(c) = find(GRANTABLE_CAPABILITIES) {
            return Ok(Capability(c));
        }
        if let Some(c) = find(KEPT_CAPABILITIES) {
            return Err(CapabilityError::AlreadyKept(c));
        }
        match find(LINUX_CAPABILITIES) {
            Some(c) => Err(CapabilityError::Refused(c)),
            None => Err(CapabilityError::Unknown(name.to_string())),
        }
    }

    /// The bare name, as Docker's `cap_add` takes it.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bare_or_prefixed_and_upper_case() {
        assert_eq!(Capability::parse("IPC_LOCK").map(Capability::as_str), Ok("IPC_LOCK"));
        assert_eq!(Capability::parse("CAP_NET_RAW").map(Capability::as_str), Ok("NET_RAW"));
        assert_eq!(Capability::parse("ipc_lock"), Err(CapabilityError::Unknown("ipc_lock".into())));
        assert_eq!(Capability::parse("CAP_SYS_ADMIN"), Err(CapabilityError::Refused("SYS_ADMIN")));
        assert_eq!(Capability::parse("CHOWN"), Err(CapabilityError::AlreadyKept("CHOWN")));
    }

    #[test]
    fn the_lists_are_consistent() {
        let all = |list: &[&str]| list.iter().all(|c| LINUX_CAPABILITIES.contains(c));
        assert!(all(KEPT_CAPABILITIES) && all(GRANTABLE_CAPABILITIES));
        assert!(GRANTABLE_CAPABILITIES.iter().all(|c| !KEPT_CAPABILITIES.contains(c)));
        for never in ["SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "DAC_READ_SEARCH"] {
            assert_eq!(Capability::parse(never), Err(CapabilityError::Refused(never)));
        }
    }
}

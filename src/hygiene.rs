//! Process-level protection of plaintext in memory: no core dumps and no
//! same-user ptrace while secrets are held, restored before handing the
//! process to another program.

use rustix::process::{
    getrlimit, set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit,
};

/// Core dumps disabled; [`CoreDumpGuard::restore`] (or drop) puts the soft
/// limit back. The hard limit is never lowered, so the restore can always
/// succeed (RLIMIT_CORE is inherited across exec).
pub struct CoreDumpGuard {
    saved: Rlimit,
    restored: bool,
}

/// Disables core dumps (soft RLIMIT_CORE = 0) and marks the process
/// non-dumpable, which also blocks same-user ptrace and `/proc/PID/mem`.
/// Failures are ignored: this is defence in depth, not a precondition.
pub fn disable_core_dumps() -> CoreDumpGuard {
    let saved = getrlimit(Resource::Core);
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: saved.maximum,
        },
    );
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    CoreDumpGuard {
        saved,
        restored: false,
    }
}

impl CoreDumpGuard {
    /// The limit to give a child process: the one in force before.
    pub fn saved_limit(&self) -> Rlimit {
        self.saved
    }

    /// Restores the soft core limit (the dumpable flag resets by itself on
    /// execve).
    pub fn restore(mut self) {
        self.restore_now();
    }

    fn restore_now(&mut self) {
        if !self.restored {
            let _ = setrlimit(
                Resource::Core,
                Rlimit {
                    current: self.saved.current,
                    maximum: self.saved.maximum,
                },
            );
            self.restored = true;
        }
    }
}

impl Drop for CoreDumpGuard {
    fn drop(&mut self) {
        self.restore_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disables_then_restores() {
        let before = getrlimit(Resource::Core);
        let guard = disable_core_dumps();
        assert_eq!(getrlimit(Resource::Core).current, Some(0));
        guard.restore();
        assert_eq!(getrlimit(Resource::Core).current, before.current);
    }
}

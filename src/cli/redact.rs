//! `exec --redact`: instead of becoming the command, botsecrets starts it
//! as a child, reads its stdout and stderr, and writes them on with every
//! injected secret replaced by `[redacted:NAME]` (`botsecrets::redact`).
//!
//! What is kept of a plain `exec`:
//! - a terminal: when our stdout is a terminal the child's stdout (and its
//!   stderr, when that is the same terminal) is a new pty, so it still
//!   sees a terminal (colours, line buffering); the pty's window size
//!   follows ours. Its stdin is ours, untouched (the controlling terminal
//!   stays the user's, so Ctrl-C and job control work as before);
//! - signals: every catchable signal sent to botsecrets with `kill` is
//!   forwarded to the child. Signals the terminal sends (Ctrl-C, Ctrl-\)
//!   already reach the child, which is in our process group, so those are
//!   not sent a second time;
//! - the exit status: the child's code, or, when a signal killed it,
//!   botsecrets dies of the same signal.
//!
//! SECURITY: the secrets stay in this process for the child's lifetime,
//! with core dumps off (the child gets the limit botsecrets was started
//! with). Output bytes that may be the start of a secret are held back
//! until it is clear they are not.

// SECURITY: one of the two modules of the binary with unsafe code (the
// other is cli/handover.rs, exec's execvpe): installing a
// signal handler (signal_hook_registry) and a pre_exec hook, each with a
// SAFETY note saying why only async-signal-safe calls run there.
#![allow(unsafe_code)]

use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};

use botsecrets::redact::{Patterns, Redactor};
use zeroize::Zeroizing;

/// The values to mask, with their variable names.
pub struct Secrets(Vec<(String, Zeroizing<String>)>);

impl Secrets {
    /// From `(name, value)` pairs.
    pub fn new(pairs: Vec<(String, Zeroizing<String>)>) -> Self {
        Self(pairs)
    }

    fn patterns(&self) -> Patterns {
        Patterns::new(self.0.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }
}

/// The child, for the signal handlers (0 until it is started).
static CHILD: AtomicI32 = AtomicI32::new(0);
/// The pty master whose window size follows ours (-1: none).
static PTY: AtomicI32 = AtomicI32::new(-1);

/// Signals forwarded to the child.
const FORWARDED: [i32; 8] = [
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGUSR1,
    signal_hook::consts::SIGUSR2,
    signal_hook::consts::SIGWINCH,
    signal_hook::consts::SIGALRM,
];

/// `si_code` of a signal the kernel sent (the terminal's Ctrl-C).
const SI_KERNEL: i32 = 0x80;

/// A pty for the child's output: (master, slave). The slave does no
/// output processing (no `\n` -> `\r\n`): our own terminal does that when
/// we write to it, and a multi-line secret stays findable.
fn open_pty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let slave = rustix::fs::open(
        name.as_c_str(),
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    if let Ok(mut t) = rustix::termios::tcgetattr(&slave) {
        t.output_modes.remove(rustix::termios::OutputModes::OPOST);
        let _ = rustix::termios::tcsetattr(&slave, rustix::termios::OptionalActions::Now, &t);
    }
    copy_window_size(std::io::stdout().as_fd(), master.as_fd());
    Ok((master, slave))
}

fn copy_window_size(from: std::os::fd::BorrowedFd<'_>, to: std::os::fd::BorrowedFd<'_>) {
    if let Ok(size) = rustix::termios::tcgetwinsize(from) {
        let _ = rustix::termios::tcsetwinsize(to, size);
    }
}

/// Installs the forwarding handlers.
fn forward_signals() -> std::io::Result<()> {
    for sig in FORWARDED {
        // SAFETY: the handler only makes async-signal-safe system calls
        // (ioctl, kill) and reads atomics.
        unsafe {
            signal_hook_registry::register_sigaction(sig, move |info| {
                let child = CHILD.load(Ordering::SeqCst);
                if child <= 0 {
                    return;
                }
                let Some(pid) = rustix::process::Pid::from_raw(child) else {
                    return;
                };
                let Some(signal) = rustix::process::Signal::from_named_raw(sig) else {
                    return;
                };
                if sig == signal_hook::consts::SIGWINCH {
                    let pty = PTY.load(Ordering::SeqCst);
                    if pty >= 0 {
                        // SAFETY: PTY holds the master's fd while the child runs.
                        let master = std::os::fd::BorrowedFd::borrow_raw(pty);
                        copy_window_size(rustix::stdio::stdout(), master);
                        let _ = rustix::process::kill_process(pid, signal);
                    }
                    return;
                }
                if info.si_code == SI_KERNEL {
                    // The terminal sent it to the whole process group,
                    // the child included.
                    return;
                }
                let _ = rustix::process::kill_process(pid, signal);
            })?;
        }
    }
    Ok(())
}

/// Copies `from` to `to`, masking; ends at end of file (or EIO: a pty
/// whose last writer closed).
fn pump(mut from: std::fs::File, mut to: impl Write, patterns: Patterns) {
    let mut redactor = Redactor::new(patterns);
    let mut buf = Zeroizing::new(vec![0u8; 16 * 1024]);
    let mut out = Vec::with_capacity(16 * 1024);
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        out.clear();
        redactor.push(&buf[..n], &mut out);
        if to.write_all(&out).and_then(|()| to.flush()).is_err() {
            // Our reader went away; keep draining so the child is not
            // blocked on a full pipe.
            continue;
        }
    }
    out.clear();
    redactor.finish(&mut out);
    let _ = to.write_all(&out);
    let _ = to.flush();
}

/// Starts `cmd` with its output masked; returns its exit status once it
/// has exited and its output is written.
pub fn run(
    mut cmd: Command,
    secrets: Secrets,
    core: rustix::process::Rlimit,
) -> std::io::Result<ExitStatus> {
    let patterns = secrets.patterns();
    drop(secrets);
    let out_tty = std::io::stdout().is_terminal();
    let err_tty = std::io::stderr().is_terminal();
    let mut readers: Vec<(std::fs::File, bool)> = Vec::new(); // (source, to stderr)
    let mut pty_master = None;
    if out_tty {
        let (master, slave) = open_pty()?;
        cmd.stdout(Stdio::from(slave.try_clone()?));
        if err_tty {
            cmd.stderr(Stdio::from(slave));
        } else {
            cmd.stderr(Stdio::piped());
        }
        PTY.store(std::os::fd::AsRawFd::as_raw_fd(&master), Ordering::SeqCst);
        pty_master = Some(master);
    } else {
        cmd.stdout(Stdio::piped());
        cmd.stderr(Stdio::piped());
    }
    // SAFETY: setrlimit is async-signal-safe; nothing else runs there.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            let _ = rustix::process::setrlimit(rustix::process::Resource::Core, core);
            Ok(())
        });
    }
    forward_signals()?;
    let mut child = cmd.spawn()?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    // Our copies of the pty slave and pipe ends go with `cmd`.
    drop(cmd);
    if let Some(master) = &pty_master {
        readers.push((std::fs::File::from(master.try_clone()?), false));
    }
    if let Some(o) = child.stdout.take() {
        readers.push((std::fs::File::from(OwnedFd::from(o)), false));
    }
    if let Some(e) = child.stderr.take() {
        readers.push((std::fs::File::from(OwnedFd::from(e)), true));
    }
    let threads: Vec<_> = readers
        .into_iter()
        .map(|(from, to_err)| {
            let patterns = patterns.clone();
            std::thread::spawn(move || {
                if to_err {
                    pump(from, std::io::stderr(), patterns)
                } else {
                    pump(from, std::io::stdout(), patterns)
                }
            })
        })
        .collect();
    let status = loop {
        match child.wait() {
            Ok(s) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    CHILD.store(0, Ordering::SeqCst);
    // The readers end when the last writer closes (a pty master reads EIO
    // then): output a background grandchild still writes is masked too.
    for t in threads {
        let _ = t.join();
    }
    PTY.store(-1, Ordering::SeqCst);
    drop(pty_master);
    Ok(status)
}

/// Ends botsecrets the way the child ended: its exit code, or death by
/// the same signal (exit status 128+N if the signal does not kill us).
pub fn exit_like(status: ExitStatus) -> ! {
    use std::os::unix::process::ExitStatusExt;
    let _ = std::io::stdout().flush();
    if let Some(code) = status.code() {
        std::process::exit(code);
    }
    let sig = status.signal().unwrap_or(1);
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    std::process::exit(128 + sig);
}

//! Safe reads and writes (issue 10, items 5, 6 and 8): one lock for every
//! writer, checked against real concurrent processes; writes that keep the
//! owner, group, mode, ACL and xattrs; refused write targets (read-only,
//! hard links: exit 215); plaintext outputs of mode 0600 that leave no
//! named file when killed mid-write; and bounded input (FIFOs, devices,
//! directories and oversized inputs refused at once: exit 216).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{key1, key2, strace_botsecrets, TestDir, RECIPIENT1, RECIPIENT2};

const PLAIN: &str = "api_key: sk-live-SECRET-0001\nport: 8080\n";
const SECRET: &str = "sk-live-SECRET-0001";

fn id1() -> String {
    key1().to_str().unwrap().to_owned()
}

/// Writes `name` as `PLAIN` encrypted for `recipients` (comma-separated).
fn encrypted(t: &TestDir, name: &str, recipients: &str) {
    t.write(name, PLAIN);
    t.run(&["encrypt", "--in-place", "--age", recipients, name])
        .ok();
}

fn spawn(t: &TestDir, args: &[&str]) -> Child {
    t.cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd`, failing the test (instead of hanging it) if it has not
/// finished within `secs` seconds.
fn within(mut cmd: Command, secs: u64) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{cmd:?} did not finish within {secs} s");
        }
    }
}

/// The names in the test directory, sorted, without the harness's own.
fn listing(t: &TestDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "run" && n != "home")
        .collect();
    names.sort();
    names
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

// ---- item 5: one lock for every writer ------------------------------------

/// Two `recipients remove` at once, of two different recipients: each one
/// that exits 0 has really locked its recipient out (today one removal is
/// lost while both report success).
#[test]
fn concurrent_removals_of_two_recipients_both_take_effect() {
    let t = TestDir::new();
    let r3 = t.run(&["keygen", "-o", "k3.txt"]).ok().stdout();
    let r3 = r3.trim();
    let k3 = t.path("k3.txt");
    let all = format!("{RECIPIENT1},{RECIPIENT2},{r3}");
    let id = id1();
    let mut both = 0;
    for i in 0..30 {
        encrypted(&t, "s.yaml", &all);
        let a = spawn(
            &t,
            &[
                "recipients",
                "remove",
                "--identity",
                &id,
                "s.yaml",
                RECIPIENT2,
            ],
        );
        let b = spawn(
            &t,
            &["recipients", "remove", "--identity", &id, "s.yaml", r3],
        );
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for (out, key) in [(&a, key2()), (&b, k3.clone())] {
            let code = out.status.code();
            assert!(
                matches!(code, Some(0 | 207)),
                "run {i}: exit {code:?}: {}",
                stderr(out)
            );
            assert!(!stderr(out).contains(SECRET));
            if code == Some(0) {
                let r = t.run(&["decrypt", "--identity", key.to_str().unwrap(), "s.yaml"]);
                assert_eq!(
                    r.code(),
                    128,
                    "run {i}: a removed recipient still decrypts the file: {}",
                    r.stderr()
                );
            }
        }
        t.decrypt("s.yaml").ok();
        both += usize::from(a.status.success() && b.status.success());
    }
    eprintln!("both removals succeeded in {both}/30 runs (the other runs: one exited 207)");
}

/// A `set` while a `rotate` runs: the value set is there afterwards, or the
/// `set` failed (today the rotation silently writes the old value back).
#[test]
fn a_set_during_a_rotation_is_never_lost() {
    let t = TestDir::new();
    let id = id1();
    for i in 0..30 {
        encrypted(&t, "s.yaml", RECIPIENT1);
        let value = format!("{}", 9000 + i);
        let rotate = spawn(&t, &["rotate", "--identity", &id, "s.yaml"]);
        let set = spawn(&t, &["set", "--identity", &id, "s.yaml", "port", &value]);
        let (rotate, set) = (
            rotate.wait_with_output().unwrap(),
            set.wait_with_output().unwrap(),
        );
        for out in [&rotate, &set] {
            assert!(
                matches!(out.status.code(), Some(0 | 207)),
                "run {i}: {}",
                stderr(out)
            );
        }
        let got = t.run(&["get", "--identity", &id, "s.yaml", "port"]);
        if set.status.success() {
            assert_eq!(got.ok().stdout(), value, "run {i}: the set value was lost");
        } else {
            got.ok();
        }
        assert_eq!(
            t.run(&["get", "--identity", &id, "s.yaml", "api_key"])
                .ok()
                .stdout(),
            SECRET
        );
    }
}

/// Every writer takes the same lock, and the wait is bounded: held (here
/// by the test, as `edit` holds it while the editor runs), each writer
/// waits a few seconds, then gives up with 207 and leaves the file alone.
#[test]
fn the_lock_is_shared_by_rotate_and_recipients() {
    let t = TestDir::new();
    encrypted(&t, "s.yaml", RECIPIENT1);
    let before = t.read("s.yaml");
    // Hold the lock the way botsecrets does, from this process.
    let f = std::fs::File::open(t.path("s.yaml")).unwrap();
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let id = id1();
    let all = [
        vec!["rotate", "--identity", &id, "s.yaml"],
        vec!["recipients", "add", "--identity", &id, "s.yaml", RECIPIENT2],
        vec!["set", "--identity", &id, "s.yaml", "port", "1"],
        vec!["encrypt", "--in-place", "--age", RECIPIENT1, "s.yaml"],
        vec!["decrypt", "--in-place", "--identity", &id, "s.yaml"],
    ];
    // All at once: each waits its few seconds, then gives up.
    let start = Instant::now();
    let children: Vec<Child> = all.iter().map(|args| spawn(&t, args)).collect();
    for (args, child) in all.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(207), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("another botsecrets process is changing this file"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "{args:?} did not wait"
        );
    }
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(t.read("s.yaml"), before);
    drop(f);
}

// ---- item 6: writes keep what users rely on --------------------------------

/// A POSIX ACL in its xattr encoding: owner rw, user 4321 r, group r,
/// mask r, other none.
fn acl_bytes() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, 4321),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        v.extend(tag.to_le_bytes());
        v.extend(perm.to_le_bytes());
        v.extend(id.to_le_bytes());
    }
    v
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let n = rustix::fs::getxattr(path, name, &mut buf[..]).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Root running `set`, `rotate` and `recipients add` on a bot-owned 0640
/// file with a user xattr and an ACL: owner, group, mode, xattr and ACL
/// stay.
#[test]
fn writes_keep_owner_group_mode_xattrs_and_acl() {
    if !is_root() {
        eprintln!("SKIP: needs root to give the file another owner");
        return;
    }
    let t = TestDir::new();
    let id = id1();
    for args in [
        vec!["set", "--identity", &id, "s.yaml", "port", "1"],
        vec!["rotate", "--identity", &id, "s.yaml"],
        vec!["recipients", "add", "--identity", &id, "s.yaml", RECIPIENT2],
        vec!["unset", "--identity", &id, "s.yaml", "port"],
    ] {
        encrypted(&t, "s.yaml", RECIPIENT1);
        let p = t.path("s.yaml");
        std::os::unix::fs::chown(&p, Some(1234), Some(2345)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let with_xattrs = rustix::fs::setxattr(
            &p,
            "user.botsecrets-test",
            b"kept",
            rustix::fs::XattrFlags::empty(),
        )
        .is_ok()
            && rustix::fs::setxattr(
                &p,
                "system.posix_acl_access",
                &acl_bytes(),
                rustix::fs::XattrFlags::empty(),
            )
            .is_ok();
        if !with_xattrs {
            eprintln!("SKIP (xattrs only): the test filesystem has no user xattrs or ACLs");
        }
        let acl = xattr(&p, "system.posix_acl_access");
        let before = t.read("s.yaml");
        t.run(&args).ok();
        assert_ne!(t.read("s.yaml"), before, "{args:?} wrote nothing");
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1234, 2345), "{args:?}: owner");
        assert_eq!(meta.mode() & 0o7777, 0o640, "{args:?}: mode");
        if with_xattrs {
            assert_eq!(
                xattr(&p, "user.botsecrets-test").as_deref(),
                Some(&b"kept"[..]),
                "{args:?}: user xattr"
            );
            assert_eq!(xattr(&p, "system.posix_acl_access"), acl, "{args:?}: ACL");
        }
        assert_eq!(listing(&t), ["s.yaml"], "{args:?}");
    }
}

/// A file without the owner's write bit is refused (as sops does), even
/// for root, and stays as it was.
#[test]
fn a_read_only_file_is_refused() {
    let t = TestDir::new();
    let id = id1();
    encrypted(&t, "s.yaml", RECIPIENT1);
    let p = t.path("s.yaml");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = t.read("s.yaml");
    for args in [
        vec!["set", "--identity", &id, "s.yaml", "port", "1"],
        vec!["rotate", "--identity", &id, "s.yaml"],
        vec!["decrypt", "--in-place", "--identity", &id, "s.yaml"],
    ] {
        let r = t.run(&args);
        r.fails_with(215).leaks_none(&[SECRET]);
        assert!(r.stderr().contains("read-only"), "{}", r.stderr());
        assert_eq!(t.read("s.yaml"), before);
    }
    // Reading it is fine.
    t.decrypt("s.yaml").ok();
}

/// `encrypt --in-place` of a file with another hard link is refused: the
/// other name would keep the plaintext. Writers of encrypted files refuse
/// too.
#[test]
fn a_file_with_other_hard_links_is_refused() {
    let t = TestDir::new();
    t.write("a.yaml", PLAIN);
    std::fs::hard_link(t.path("a.yaml"), t.path("b.yaml")).unwrap();
    let r = t.run(&["encrypt", "--in-place", "--age", RECIPIENT1, "a.yaml"]);
    r.fails_with(215).leaks_none(&[SECRET]);
    assert!(r.stderr().contains("hard link"), "{}", r.stderr());
    assert_eq!(t.read("a.yaml"), PLAIN);
    assert_eq!(t.read("b.yaml"), PLAIN);
    assert_eq!(listing(&t), ["a.yaml", "b.yaml"]);

    encrypted(&t, "s.yaml", RECIPIENT1);
    std::fs::hard_link(t.path("s.yaml"), t.path("t.yaml")).unwrap();
    let before = t.read("s.yaml");
    let r = t.run(&["set", "--identity", &id1(), "s.yaml", "port", "1"]);
    r.fails_with(215);
    assert!(r.stderr().contains("hard link"), "{}", r.stderr());
    assert_eq!(t.read("s.yaml"), before);
    // `--output` onto a hard-linked file is refused the same way.
    let r = t.run(&[
        "decrypt",
        "--identity",
        &id1(),
        "--output",
        "t.yaml",
        "s.yaml",
    ]);
    r.fails_with(215);
    assert_eq!(t.read("t.yaml"), before);
}

/// Plaintext outputs are 0600, even over an existing 0644 file, and no
/// temporary file is left after success or failure.
#[test]
fn plaintext_outputs_are_private() {
    let t = TestDir::new();
    let id = id1();
    encrypted(&t, "s.yaml", RECIPIENT1);
    t.write("out.yaml", "old\n");
    std::fs::set_permissions(t.path("out.yaml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    t.run(&[
        "decrypt",
        "--identity",
        &id,
        "--output",
        "out.yaml",
        "s.yaml",
    ])
    .ok();
    assert_eq!(t.read("out.yaml"), PLAIN);
    let mode = |n: &str| std::fs::metadata(t.path(n)).unwrap().mode() & 0o7777;
    assert_eq!(mode("out.yaml"), 0o600);
    t.run(&[
        "decrypt",
        "--identity",
        &id,
        "--output",
        "new.yaml",
        "s.yaml",
    ])
    .ok();
    assert_eq!(mode("new.yaml"), 0o600);
    assert_eq!(listing(&t), ["new.yaml", "out.yaml", "s.yaml"]);
    // A failure (no key) writes nothing and leaves nothing.
    let r = t.run(&[
        "decrypt",
        "--identity",
        key2().to_str().unwrap(),
        "--output",
        "fail.yaml",
        "s.yaml",
    ]);
    r.fails_with(128);
    assert_eq!(listing(&t), ["new.yaml", "out.yaml", "s.yaml"]);
    // In place: the 0644 encrypted file becomes a 0600 plaintext file.
    assert_eq!(mode("s.yaml"), 0o644);
    t.run(&["decrypt", "--identity", &id, "--in-place", "s.yaml"])
        .ok();
    assert_eq!(t.read("s.yaml"), PLAIN);
    assert_eq!(mode("s.yaml"), 0o600);
    assert_eq!(listing(&t), ["new.yaml", "out.yaml", "s.yaml"]);
}

/// `decrypt --output` killed at its first write (strace injects SIGKILL)
/// leaves no named plaintext file: not the target, not a temporary.
#[test]
fn a_plaintext_output_killed_mid_write_leaves_no_file() {
    let t = TestDir::new();
    encrypted(&t, "s.yaml", RECIPIENT1);
    for existing in [false, true] {
        if existing {
            t.write("out.yaml", "old\n");
        }
        let id = id1();
        let Some((out, _)) = strace_botsecrets(
            &t,
            &[
                "-f",
                "-qq",
                "-e",
                "trace=write,pwrite64,writev",
                "-e",
                "inject=write,pwrite64,writev:signal=SIGKILL",
            ],
            &[
                "decrypt",
                "--identity",
                &id,
                "--output",
                "out.yaml",
                "s.yaml",
            ],
        ) else {
            return;
        };
        // strace re-raises the signal that killed its tracee.
        let killed = out.status.signal() == Some(9) || out.status.code() == Some(137);
        assert!(killed, "{:?}: {}", out.status, stderr(&out));
        if existing {
            assert_eq!(listing(&t), ["out.yaml", "s.yaml"]);
            assert_eq!(t.read("out.yaml"), "old\n");
        } else {
            assert_eq!(listing(&t), ["s.yaml"]);
        }
    }
}

// ---- item 8: bounded input ---------------------------------------------------

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

/// A FIFO with no writer, a directory and a device are refused at once by
/// every command that reads a file (today a FIFO hangs them all).
#[test]
fn fifos_directories_and_devices_are_refused_at_once() {
    let t = TestDir::new();
    let id = id1();
    mkfifo(&t.path("p.yaml"));
    std::fs::create_dir(t.path("d.yaml")).unwrap();
    for file in ["p.yaml", "d.yaml", "/dev/zero"] {
        for args in [
            vec!["decrypt", "--identity", &id, "--input-type", "yaml", file],
            vec!["encrypt", "--age", RECIPIENT1, "--input-type", "yaml", file],
            vec![
                "get",
                "--identity",
                &id,
                "--input-type",
                "yaml",
                file,
                "port",
            ],
            vec![
                "set",
                "--identity",
                &id,
                "--input-type",
                "yaml",
                file,
                "port",
                "1",
            ],
            vec!["recipients", "list", file],
            vec!["rotate", "--identity", &id, file],
            vec!["exec", "--identity", &id, "--file", file, "--", "true"],
            vec!["check", file],
        ] {
            if file == "/dev/zero" && matches!(args[0], "recipients" | "rotate" | "check" | "exec")
            {
                // These take the format from the name only.
                continue;
            }
            if file == "d.yaml" && args[0] == "check" {
                // `check DIR` checks the files under it.
                continue;
            }
            let out = within(
                {
                    let mut c = t.cmd();
                    c.args(&args);
                    c
                },
                10,
            );
            assert_eq!(out.status.code(), Some(216), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("not a regular file"), "{args:?}: {err}");
        }
    }
    // textconv never fails (git diff must not break) but returns at once.
    let out = within(
        {
            let mut c = t.cmd();
            c.args(["git", "textconv", "p.yaml"]);
            c
        },
        10,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

/// A file over the size limit is refused before it is read (a sparse file
/// just over the default 256 MiB); stdin and files over a lowered limit
/// too.
#[test]
fn inputs_over_the_size_limit_are_refused() {
    let t = TestDir::new();
    let id = id1();
    let big = std::fs::File::create(t.path("big.yaml")).unwrap();
    big.set_len(256 * 1024 * 1024 + 1).unwrap();
    drop(big);
    let out = within(
        {
            let mut c = t.cmd();
            c.args(["decrypt", "--identity", &id, "big.yaml"]);
            c
        },
        10,
    );
    assert_eq!(out.status.code(), Some(216), "{}", stderr(&out));
    assert!(stderr(&out).contains("256 MiB"), "{}", stderr(&out));

    let long = format!("a: {}\n", "x".repeat(4096));
    let mut c = t.cmd();
    c.env("BOTSECRETS_MAX_INPUT_BYTES", "1024");
    let r = {
        use std::io::Write;
        let mut child = c
            .args(["encrypt", "--age", RECIPIENT1, "--input-type", "yaml", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(long.as_bytes());
        child.wait_with_output().unwrap()
    };
    assert_eq!(r.status.code(), Some(216), "{}", stderr(&r));
    assert!(stderr(&r).contains("1024 bytes"), "{}", stderr(&r));
    assert!(!stderr(&r).contains("xxxx"));

    t.write("long.yaml", &long);
    let mut c = t.cmd();
    c.env("BOTSECRETS_MAX_INPUT_BYTES", "1024")
        .args(["encrypt", "--age", RECIPIENT1, "long.yaml"]);
    let r = within(c, 10);
    assert_eq!(r.status.code(), Some(216), "{}", stderr(&r));
    // Under the limit all is well.
    let mut c = t.cmd();
    c.env("BOTSECRETS_MAX_INPUT_BYTES", "100000").args([
        "encrypt",
        "--age",
        RECIPIENT1,
        "long.yaml",
    ]);
    let r = within(c, 10);
    assert!(r.status.success(), "{}", stderr(&r));
}

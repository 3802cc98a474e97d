//! Unit tests of the parent module.
use super::*;

const WAIT: Duration = Duration::from_millis(200);

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn replaces_keeping_mode_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.yaml");
    fs::write(&p, "old").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    write_file(&p, b"new", WriteMode::Keep(0o600)).unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "new");
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
    assert_eq!(names(dir.path()), ["s.yaml"]);
}

#[test]
fn private_outputs_are_0600_even_over_a_0644_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plain.yaml");
    fs::write(&p, "old").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    write_file(&p, b"secret", WriteMode::Private).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
    let q = dir.path().join("new.yaml");
    write_file(&q, b"x", WriteMode::Private).unwrap();
    assert_eq!(fs::metadata(&q).unwrap().mode() & 0o777, 0o600);
    assert_eq!(names(dir.path()), ["new.yaml", "plain.yaml"]);
}

#[test]
fn new_files_get_the_given_mode_and_create_never_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    create_file(&p, b"x", WriteMode::Keep(0o644)).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
    assert!(matches!(
        create_file(&p, b"y", WriteMode::Keep(0o644)),
        Err(FsError::Exists { .. })
    ));
    assert_eq!(fs::read_to_string(&p).unwrap(), "x");
    assert_eq!(names(dir.path()), ["f"]);
}

#[test]
fn failure_leaves_the_target_alone() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/f");
    assert!(write_file(&missing, b"x", WriteMode::Private).is_err());
}

#[test]
fn reads_refuse_fifos_directories_and_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("p");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    assert!(matches!(
        read_file(&fifo, MAX_INPUT),
        Err(FsError::NotRegular { kind: "a FIFO", .. })
    ));
    assert!(matches!(
        read_file(dir.path(), MAX_INPUT),
        Err(FsError::NotRegular {
            kind: "a directory",
            ..
        })
    ));
    let f = dir.path().join("f");
    fs::write(&f, "12345").unwrap();
    assert_eq!(&read_file(&f, 5).unwrap()[..], b"12345");
    assert!(matches!(
        read_file(&f, 4),
        Err(FsError::TooLarge { limit: 4, .. })
    ));
    assert!(matches!(
        read_stream(&b"123456"[..], 5, "(stdin)"),
        Err(FsError::TooLarge { .. })
    ));
    assert_eq!(
        &read_stream(&vec![7u8; 200_000][..], 200_000, "(stdin)").unwrap()[..],
        &vec![7u8; 200_000][..]
    );
    assert!(matches!(
        LockedFile::open(&fifo, WAIT, MAX_INPUT),
        Err(FsError::NotRegular { .. })
    ));
}

#[test]
fn the_lock_follows_the_file_across_a_replacement() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.yaml");
    fs::write(&p, "one").unwrap();
    let first = LockedFile::open(&p, WAIT, MAX_INPUT).unwrap();
    assert!(matches!(
        LockedFile::open(&p, WAIT, MAX_INPUT),
        Err(FsError::Busy { .. })
    ));
    // A second process that locked the old inode after the first one
    // replaced it must see the new file, not the old contents.
    let waiter = {
        let p = p.clone();
        std::thread::spawn(move || {
            let l = LockedFile::open(&p, Duration::from_secs(5), MAX_INPUT).unwrap();
            l.contents().to_vec()
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    first.replace(b"two", WriteMode::Keep(0o644)).unwrap();
    drop(first);
    assert_eq!(waiter.join().unwrap(), b"two");
}

#[test]
fn a_change_made_meanwhile_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.yaml");
    fs::write(&p, "one").unwrap();
    // Changed in place (same inode, same length).
    let l = LockedFile::open(&p, WAIT, MAX_INPUT).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .write_all(b"ONE")
        .unwrap();
    assert!(matches!(
        l.replace(b"new", WriteMode::Keep(0o644)),
        Err(FsError::Changed { .. })
    ));
    drop(l);
    // Replaced by another tool (a new inode).
    let l = LockedFile::open(&p, WAIT, MAX_INPUT).unwrap();
    let other = dir.path().join("other");
    fs::write(&other, "ONE").unwrap();
    fs::rename(&other, &p).unwrap();
    assert!(matches!(
        l.replace(b"new", WriteMode::Keep(0o644)),
        Err(FsError::Changed { .. })
    ));
    assert_eq!(fs::read_to_string(&p).unwrap(), "ONE");
}

#[test]
fn read_only_files_and_hard_links_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.yaml");
    fs::write(&p, "x").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
    assert!(matches!(
        LockedFile::open(&p, WAIT, MAX_INPUT),
        Err(FsError::ReadOnly { .. })
    ));
    assert!(matches!(
        write_file(&p, b"y", WriteMode::Private),
        Err(FsError::ReadOnly { .. })
    ));
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    fs::hard_link(&p, dir.path().join("t.yaml")).unwrap();
    assert!(matches!(
        LockedFile::open(&p, WAIT, MAX_INPUT),
        Err(FsError::HardLinks { others: 1, .. })
    ));
    assert_eq!(fs::read_to_string(&p).unwrap(), "x");
}

#[test]
fn symlinks_are_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.yaml");
    let link = dir.path().join("link.yaml");
    fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let l = LockedFile::open(&link, WAIT, MAX_INPUT).unwrap();
    l.replace(b"new", WriteMode::Keep(0o644)).unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&real).unwrap(), "new");
}

#[test]
fn sizes_read_well() {
    assert_eq!(size_text(MAX_INPUT), "256 MiB");
    assert_eq!(size_text(1024), "1024 bytes");
}

#[test]
fn a_file_that_changed_size_is_read_to_its_end_or_refused() {
    let data = vec![5u8; 100_000];
    let f = Path::new("f");
    // Longer than its size said (it grew): read to the end, within the limit.
    assert_eq!(
        &read_bounded(&data[..], 3, 200_000, "f", f).unwrap()[..],
        &data[..]
    );
    assert!(matches!(
        read_bounded(&data[..], 3, 99_999, "f", f),
        Err(FsError::TooLarge { limit: 99_999, .. })
    ));
    // Its size is the limit, and one byte more is there.
    assert!(matches!(
        read_bounded(&data[..6], 5, 5, "f", f),
        Err(FsError::TooLarge { limit: 5, .. })
    ));
    assert_eq!(
        &read_bounded(&data[..5], 5, 5, "f", f).unwrap()[..],
        &data[..5]
    );
    // Shorter than its size said (it shrank): what is there.
    assert_eq!(
        &read_bounded(&data[..10], 50, 200_000, "f", f).unwrap()[..],
        &data[..10]
    );
}

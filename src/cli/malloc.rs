//! Fixes glibc malloc's mmap threshold for the whole run, so that peak
//! memory is what the code holds, not what the allocator's history makes it.
//!
//! glibc serves a large allocation by its own mmap, returned to the system
//! on free, but it raises that threshold to the size of each such block
//! freed (up to 32 MiB). After one 16 MiB buffer was freed, every later
//! buffer under 16 MiB came from the heap, where freed memory stays
//! resident: once the dotenv parse's 16 MiB list of key hashes was freed,
//! a million-key dotenv decrypt peaked at 387 MiB instead of 356 MiB.
//! Setting the threshold once turns that adjustment off (mallopt(3)).

// SECURITY: the one unsafe call is mallopt with constant arguments, made
// before any other thread exists.
#![allow(unsafe_code)]

/// Blocks of this size and larger are always mmapped (and unmapped when
/// freed). 4 MiB: a 10,000-key file's buffers stay on the heap, where
/// their reuse costs no page faults.
const MMAP_THRESHOLD: libc::c_int = 4 << 20;

/// Sets the threshold. Called first thing in `run`, on the main thread.
pub fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; glibc documents it
    // as safe to call at any time, and no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

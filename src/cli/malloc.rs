//! The binary's allocator: glibc malloc with its mmap threshold fixed for
//! the whole run, so that peak memory is what the code holds, not what the
//! allocator's history makes it; and large blocks advised to use
//! transparent huge pages (`Allocator`, below).
//!
//! glibc serves a large allocation by its own mmap, returned to the system
//! on free, but it raises that threshold to the size of each such block
//! freed (up to 32 MiB). After one 16 MiB buffer was freed, every later
//! buffer under 16 MiB came from the heap, where freed memory stays
//! resident: once the dotenv parse's 16 MiB list of key hashes was freed,
//! a million-key dotenv decrypt peaked at 387 MiB instead of 356 MiB.
//! Setting the threshold once turns that adjustment off (mallopt(3)).

// SECURITY: the unsafe calls are mallopt with constant arguments, made
// before any other thread exists, and madvise(MADV_HUGEPAGE) over the pages
// of a block the system allocator just returned; the GlobalAlloc methods
// forward to `System` unchanged.
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

/// Blocks from this size up get transparent huge pages (2 MiB) where the
/// kernel gives them on request (`/sys/kernel/mm/transparent_hugepage/enabled`
/// = `madvise`, the common default): a million-key file's buffers are a
/// few hundred MiB, and with 4 KiB pages the kernel took ~135,000 page
/// faults for them, which made its share of a 1M JSON encrypt grow faster
/// than the work (14x the 100k system time). These blocks are mmapped
/// (MMAP_THRESHOLD), so the advice covers that block's own mapping only.
const HUGE_ADVICE_FROM: usize = 4 << 20;

/// The system allocator, plus `madvise(MADV_HUGEPAGE)` on large blocks.
pub struct Allocator;

fn advise_huge(ptr: *mut u8, len: usize) {
    if ptr.is_null() || len < HUGE_ADVICE_FROM {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: sysconf only reads a constant. [start, end) lies within the
    // pages of the block just allocated (page-aligned outward only to the
    // pages that hold it, which belong to its own mapping); MADV_HUGEPAGE
    // changes how the kernel backs them, never their contents. A failure
    // is harmless.
    unsafe {
        // The system's page size, not 4 KiB: madvise refuses a start that
        // is not aligned to it (16 or 64 KiB pages on some arm64 systems).
        let page = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).unwrap_or(4096);
        let start = (ptr as usize) & !(page - 1);
        let end = (ptr as usize + len + page - 1) & !(page - 1);
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

// SAFETY: every call is forwarded to `System` unchanged; `advise_huge`
// only adds advice about the returned block.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as is.
        let p = unsafe { std::alloc::System.alloc(layout) };
        advise_huge(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        advise_huge(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        advise_huge(p, new_size);
        p
    }
}

#[cfg(test)]
mod tests {
    /// The `VmFlags` line of the mapping in /proc/self/smaps that holds
    /// `addr`.
    fn vm_flags_at(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((lo, hi)) = range.split_once('-') {
                    if let (Ok(lo), Ok(hi)) =
                        (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                    {
                        inside = (lo..hi).contains(&addr);
                        continue;
                    }
                }
            }
            if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.trim().to_owned();
                }
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn large_blocks_are_advised_huge_pages_and_small_ones_are_not() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            eprintln!("SKIP: this kernel has no transparent huge pages");
            return;
        }
        super::fix_mmap_threshold();
        let large: Vec<u8> = vec![1; 8 << 20];
        let flags = vm_flags_at(large.as_ptr() as usize + (4 << 20));
        assert!(flags.split(' ').any(|f| f == "hg"), "{flags}");
        let mut grown: Vec<u8> = Vec::with_capacity(1 << 20);
        grown.resize(6 << 20, 2);
        let flags = vm_flags_at(grown.as_ptr() as usize + (5 << 20));
        assert!(
            flags.split(' ').any(|f| f == "hg"),
            "grown by realloc: {flags}"
        );
        let small: Vec<u8> = vec![3; 64 << 10];
        let flags = vm_flags_at(small.as_ptr() as usize);
        assert!(!flags.split(' ').any(|f| f == "hg"), "{flags}");
    }
}

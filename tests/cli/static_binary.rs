//! The binary on Linux with glibc is a static PIE (`.cargo/config.toml`):
//! no program interpreter (so no dynamic loader, libc.so, libm or
//! libgcc_s mapped and relocated at start, which was most of `exec`'s
//! time before the hand-over), still position-independent (ASLR) and with
//! a RELRO segment. What `file` and `readelf -l` show, read from the ELF
//! headers of the binary the tests run.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

/// ELF64 little-endian program header types we look for.
const PT_INTERP: u32 = 3;
const PT_GNU_RELRO: u32 = 0x6474_e552;
/// `e_type` of a position-independent executable (or shared object).
const ET_DYN: u16 = 3;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> usize {
    usize::try_from(u64::from_le_bytes(b[at..at + 8].try_into().unwrap())).unwrap()
}

/// The `p_type` of every program header of an ELF64 little-endian file.
fn program_header_types(elf: &[u8]) -> Vec<u32> {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not ELF64");
    assert_eq!(elf[5], 1, "not little-endian");
    let phoff = u64_at(elf, 0x20);
    let phentsize = usize::from(u16_at(elf, 0x36));
    let phnum = usize::from(u16_at(elf, 0x38));
    (0..phnum)
        .map(|i| u32_at(elf, phoff + i * phentsize))
        .collect()
}

#[test]
fn the_binary_is_a_static_pie_with_relro() {
    let elf = std::fs::read(env!("CARGO_BIN_EXE_botsecrets")).unwrap();
    let types = program_header_types(&elf);
    assert!(
        !types.contains(&PT_INTERP),
        "the binary names a program interpreter (dynamically linked): {types:x?}"
    );
    assert_eq!(
        u16_at(&elf, 0x10),
        ET_DYN,
        "not position-independent (no ASLR)"
    );
    assert!(
        types.contains(&PT_GNU_RELRO),
        "no RELRO segment: {types:x?}"
    );
}

//! Integration tests: drive the real `botsecrets` binary in temporary
//! directories, and check interop against the real `sops` and `age`.
//!
//! One test binary (like ripgrep's) so the build links once.

mod util;

mod conformance;
mod damaged;
mod decrypt;
mod edit;
mod encrypt;
mod errors;
mod exec;
mod export;
mod git;
mod harden;
mod interop;
mod keygen;
mod keys;
mod layout_corpus;
mod layout_defects;
mod loaded;
mod mutate;
mod recipients;
mod rules;
mod seal;
mod select;
mod set;
mod tamper;
mod writes;
mod yaml_layout;
mod yaml_suite;

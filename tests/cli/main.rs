//! Integration tests: drive the real `botsecrets` binary in temporary
//! directories, and check interop against the real `sops` and `age`.
//!
//! One test binary (like ripgrep's) so the build links once.

// Helpers are `pub` for the other test modules of this one binary; the
// `unreachable_pub` lint (Cargo.toml [lints]) is for the library's API.
#![allow(unreachable_pub)]

mod util;

mod access;
mod audit;
mod completions;
mod conformance;
mod conveniences;
mod damaged;
mod decrypt;
mod decrypt_parallel;
mod edit;
mod encrypt;
mod encrypt_parallel;
mod errors;
mod exec;
mod exec_handover;
mod exec_more;
mod exec_rules_once;
mod export;
mod git;
mod go_regex;
mod harden;
mod interop;
mod keygen;
mod keys;
mod layout_corpus;
mod layout_defects;
mod leaks;
mod loaded;
mod many_recipients;
mod messages;
mod mutate;
mod names;
mod output_type;
mod recipients;
mod rules;
mod scopes;
mod scopes_attacks;
mod scopes_fleet;
mod seal;
mod select;
mod set;
mod snapshots;
mod static_binary;
mod tamper;
mod value_styles;
mod writes;
mod yaml_layout;
mod yaml_suite;

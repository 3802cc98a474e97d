//! botsecrets: value-encrypted secrets files in the SOPS format.
//!
//! The library holds every rule; the `botsecrets` binary (`src/cli/`) only
//! gathers inputs (flags, environment, files) and reports. The library reads
//! no environment variables and prints nothing.
//!
//! Layers, and which may use which:
//! - [`format`](mod@format): text <-> leaves with byte spans, per file format (no crypto);
//! - [`crypto`]: AES-256-GCM values, the data key, the MAC (no I/O);
//! - [`keys`]: age recipients and identities;
//! - [`metadata`]: the `sops` block, read tolerantly, written exactly;
//! - [`document`]: where they meet: encrypt, decrypt, re-encrypt;
//! - [`seal`]: the authenticated digest of a file's structure (what the MAC leaves out);
//! - [`rules`]: the rules file (`.botsecrets.yaml` / `.sops.yaml`);
//! - [`git`]: the plaintext-secret scanner and the three-way merge of values;
//! - [`redact`]: masking secret values in a program's output (`exec --redact`).

#![forbid(unsafe_code)]

pub mod atomic;
pub mod convert;
pub mod crypto;
pub mod document;
pub mod edit;
pub mod exec;
pub mod export;
pub mod format;
pub mod fsio;
pub mod git;
pub mod hygiene;
pub mod keys;
pub mod metadata;
pub mod path;
pub mod redact;
pub mod rules;
pub mod seal;
pub mod secret;

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
//! - [`goregex`]: the rules' and selections' patterns, with Go's meaning (as sops reads them);
//! - [`access`]: who can read a file: the plan of a recipients change;
//! - [`scan`]: the leak scanner (detectors, allow list, history scan);
//! - [`git`]: the three-way merge of values and what `git install` writes;
//! - [`audit`]: who reads each secret, when its value last changed, rotation age;
//! - [`error`]: [`Error`], every module's error rolled up;
//! - [`redact`]: masking secret values in a program's output (`exec --redact`).
//!
//! # Stability
//!
//! The library API is **unstable before 1.0**: it exists so the binary can
//! hold no rule of its own and so the rules can be tested without it, and
//! it changes with the binary's needs (issue 16 reshaped it). The
//! re-exports below are the types to start from; depend on an exact
//! version (`=0.1.0`) if you use them.
//!
//! # Example
//!
//! Open a file without a key, then with one, and read a value:
//!
//! ```
//! use botsecrets::{FormatKind, KeyPath, OpenOptions, Sealed};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sops");
//! let text = std::fs::read_to_string(format!("{dir}/basic.enc.yaml"))?;
//! let key = std::fs::read_to_string(format!("{dir}/age-key.txt"))?;
//!
//! // No key needed to see who can read it.
//! let file = Sealed::parse(text, FormatKind::Yaml)?;
//! assert_eq!(file.groups().len(), 1);
//!
//! // With a key: the MAC is verified before any plaintext is returned.
//! let identities = botsecrets::keys::parse_identities(&key, "age-key.txt")?;
//! let opened = file.open(&identities, &OpenOptions::default())?;
//! let name = opened.extract(&KeyPath::parse("app.name")?)?;
//! assert_eq!(name.expose(), "demo");
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod access;
pub mod atomic;
pub mod audit;
pub mod convert;
pub mod crypto;
pub mod document;
pub mod edit;
pub mod error;
pub mod exec;
pub mod export;
pub mod format;
pub mod fsio;
pub mod git;
pub mod goregex;
pub mod hygiene;
pub mod keys;
pub mod metadata;
pub mod path;
pub mod redact;
pub mod rules;
pub mod scan;
pub mod seal;
pub mod secret;

pub use access::Plan;
pub use document::{
    DocumentError, EncryptOptions, Encrypted, OpenOptions, Opened, Sealed, Warning,
};
pub use error::{Error, Result};
pub use format::FormatKind;
pub use keys::{Identity, Recipient};
pub use metadata::{Metadata, Selection};
pub use path::KeyPath;
pub use secret::{LeafText, SecretText, SecretTree, SharedText, SourceText};

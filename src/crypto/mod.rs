//! The crypto layer: the per-file data key, `ENC[...]` values and the MAC.
//!
//! No I/O, no formats: inputs are bytes, key paths' AAD strings and typed
//! plaintext; outputs are `ENC[...]` strings and hex digests.

pub mod data_key;
pub mod mac;
pub mod shamir;
pub mod value;

pub use data_key::DataKey;
pub use value::{EncryptedValue, TypeTag, ValueError};

//! Living with encrypted files in git: the plaintext-secret scanner behind
//! `check` and the pre-commit hook, and the three-way merge of values behind
//! the merge driver. The git plumbing itself (hooks, config, attributes,
//! running `git`) is in the CLI.

pub mod merge;
pub mod scan;

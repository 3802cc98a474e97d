//! Living with encrypted files in git: the plaintext-secret scanner behind
//! `check` and the pre-commit hook, and the three-way merge of values behind
//! the merge driver, and the text `git install` writes (hook, attributes
//! block). Running `git` and touching files is the CLI's job.

pub mod attributes;
pub mod install;
pub mod merge;
pub mod scan;

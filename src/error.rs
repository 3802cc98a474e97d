//! The crate's one error type: every module's error, rolled up, so a
//! library user can hold any botsecrets failure in one `Result` and match
//! on what failed. Each module keeps its own precise error (the functions
//! of a module return it); [`Error`] converts from each with `?`.
//!
//! Every variant is transparent: the message and the `source()` chain are
//! the module error's own, so a cause is never printed twice.

use crate::access::AccessError;
use crate::audit::AuditError;
use crate::document::DocumentError;
use crate::exec::ExecError;
use crate::export::ExportError;
use crate::format::FormatError;
use crate::fsio::FsError;
use crate::git::merge::MergeError;
use crate::keys::KeyError;
use crate::metadata::MetadataError;
use crate::rules::RulesError;

/// Any botsecrets error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Encrypting, opening or changing a file.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The text is not valid in its format.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The `sops` metadata block is invalid.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The rules file.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// A recipient or identity.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Reading or writing a file.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// Turning files into environment variables.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// Rendering variables for `export`.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The three-way merge of encrypted files.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// A change to a file's recipients.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// Reading git history for an audit.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_error_converts_and_keeps_its_message_and_source() {
        fn open() -> Result<()> {
            Err(DocumentError::MacMismatch)?
        }
        let e = open().unwrap_err();
        assert!(matches!(e, Error::Document(DocumentError::MacMismatch)));
        assert_eq!(
            e.to_string(),
            "MAC mismatch: the file's values were altered after it was encrypted"
        );
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn a_rules_file_that_cannot_be_read_keeps_the_io_cause_typed_and_says_it_once() {
        let dir = std::env::temp_dir().join(format!("botsecrets-error-{}", std::process::id()));
        let missing = dir.join("no-such.botsecrets.yaml");
        let e = Error::from(crate::rules::read(&missing).unwrap_err());
        assert!(
            matches!(
                &e,
                Error::Rules(RulesError::Io {
                    error: FsError::NotFound { .. },
                    ..
                })
            ),
            "{e:?}"
        );
        let text = e.to_string();
        assert_eq!(text.matches("no such file").count(), 1, "{text}");
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn a_threshold_that_does_not_fit_is_typed() {
        let e = DocumentError::Shamir(crate::document::GroupsError::Threshold {
            threshold: 5,
            groups: 2,
        });
        assert_eq!(
            e.to_string(),
            "cannot rebuild the data key from key groups: a threshold of 5 needs between 2 and 2 key groups"
        );
    }
}

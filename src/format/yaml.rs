//! The yaml format (stub, being written).

use super::{FormatError, FormatKind, Leaf, ParsedFile, Replacement, Splice, Syntax};

/// The yaml syntax.
pub struct Yaml;

impl Syntax for Yaml {
    fn kind(&self) -> FormatKind {
        FormatKind::Yaml
    }

    fn parse(&self, _text: &str) -> Result<ParsedFile, FormatError> {
        Err(FormatError::Internal("not implemented"))
    }

    fn render(
        &self,
        _text: &str,
        _leaf: &Leaf,
        _with: &Replacement<'_>,
    ) -> Result<String, FormatError> {
        Err(FormatError::Internal("not implemented"))
    }

    fn metadata_splices(
        &self,
        _text: &str,
        _parsed: &ParsedFile,
        _tree: Option<&serde_json::Value>,
    ) -> Result<Vec<Splice>, FormatError> {
        Err(FormatError::Internal("not implemented"))
    }
}

/// Replaces every alias by a flow-style copy of its anchored node (stub).
pub fn expand_aliases(_text: &str) -> Result<String, FormatError> {
    Err(FormatError::Internal("not implemented"))
}

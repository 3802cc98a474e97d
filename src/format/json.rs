//! The json format (stub, being written).

use super::{FormatError, FormatKind, Leaf, ParsedFile, Replacement, Splice, Syntax};

/// The json syntax.
pub struct Json;

impl Syntax for Json {
    fn kind(&self) -> FormatKind {
        FormatKind::Json
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

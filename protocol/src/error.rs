//! Why a line could not be parsed.

/// A line that is not a valid message. Every malformed input maps to one of these; parsing never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty line")]
    Empty,
    #[error("unknown verb `{0}`")]
    UnknownVerb(String),
    #[error("{verb} is missing the field `{field}`")]
    MissingField {
        verb: &'static str,
        field: &'static str,
    },
    #[error("in {verb}, the field `{field}` must not be empty")]
    EmptyField {
        verb: &'static str,
        field: &'static str,
    },
    #[error("{verb} has too many fields")]
    TooManyFields { verb: &'static str },
    #[error("in {verb}, `{value}` is not a valid {field}")]
    InvalidValue {
        verb: &'static str,
        field: &'static str,
        value: String,
    },
    #[error("percent escapes in `{0}` do not decode to UTF-8")]
    BadEscape(String),
    #[error("a line must not contain a raw CR or LF")]
    EmbeddedNewline,
}

impl ParseError {
    /// The wire error code a server answers this with.
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            ParseError::UnknownVerb(_) => crate::ErrorCode::UnknownVerb,
            _ => crate::ErrorCode::BadRequest,
        }
    }
}

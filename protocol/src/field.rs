//! Field escaping and splitting.
//!
//! A line is `VERB:field:field:…`. A field that holds `%`, `:`, CR or LF carries them as `%25`, `%3A`, `%0D`,
//! `%0A`; everything else (CJK, emoji, spaces) stays as it is, so plain values look exactly like the original
//! client's lines. Decoding is lenient in one way only: a `%` that is not followed by two hex digits is taken
//! literally, so a person typing `MSG:bob:1:100% sure` into `nc` is understood.

use std::borrow::Cow;

use crate::error::ParseError;

/// Escapes one field for the wire.
pub fn encode(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(needs_escape) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(b: u8) -> bool {
    matches!(b, b'%' | b':' | b'\r' | b'\n')
}

/// Undoes [`encode`]. Any `%XX` escape is decoded; the result must be UTF-8.
pub fn decode(raw: &str) -> Result<Cow<'_, str>, ParseError> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| ParseError::BadEscape(raw.to_owned()))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A cursor over the fields of one line, after the verb. Each verb's parser takes exactly the fields it
/// declares and then calls [`Fields::end`], so a line with too few or too many fields is a typed error.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    verb: &'static str,
    rest: Option<&'a str>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(verb: &'static str, rest: Option<&'a str>) -> Self {
        Fields { verb, rest }
    }

    fn raw(&mut self, name: &'static str) -> Result<&'a str, ParseError> {
        let rest = self.rest.ok_or(ParseError::MissingField {
            verb: self.verb,
            field: name,
        })?;
        match rest.split_once(':') {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Ok(head)
            }
            None => {
                self.rest = None;
                Ok(rest)
            }
        }
    }

    pub(crate) fn verb(&self) -> &'static str {
        self.verb
    }

    /// The next field, unescaped.
    pub(crate) fn string(&mut self, name: &'static str) -> Result<String, ParseError> {
        let raw = self.raw(name)?;
        Ok(decode(raw)?.into_owned())
    }

    /// The next field, which must not be empty.
    pub(crate) fn nonempty(&mut self, name: &'static str) -> Result<String, ParseError> {
        let value = self.string(name)?;
        if value.is_empty() {
            return Err(ParseError::EmptyField {
                verb: self.verb,
                field: name,
            });
        }
        Ok(value)
    }

    /// The next field if there is one (for optional trailing fields).
    pub(crate) fn optional(&mut self, name: &'static str) -> Result<Option<String>, ParseError> {
        if self.rest.is_none() {
            return Ok(None);
        }
        self.string(name).map(Some)
    }

    /// Everything left on the line as one field. Used for a verb's final free-text field so that a person
    /// typing into `nc` need not escape the colons in their message; formatting still escapes them.
    pub(crate) fn text(&mut self, name: &'static str) -> Result<String, ParseError> {
        match self.rest.take() {
            Some(rest) => Ok(decode(rest)?.into_owned()),
            None => Err(ParseError::MissingField {
                verb: self.verb,
                field: name,
            }),
        }
    }

    /// Like [`Fields::text`], but for an optional final field: absent is `None`.
    pub(crate) fn text_optional(&mut self) -> Result<Option<String>, ParseError> {
        match self.rest.take() {
            Some(rest) => Ok(Some(decode(rest)?.into_owned())),
            None => Ok(None),
        }
    }

    /// Like [`Fields::text`], but an absent field is the empty string.
    pub(crate) fn text_or_empty(&mut self) -> Result<String, ParseError> {
        match self.rest.take() {
            Some(rest) => Ok(decode(rest)?.into_owned()),
            None => Ok(String::new()),
        }
    }

    pub(crate) fn number<T: std::str::FromStr>(
        &mut self,
        name: &'static str,
    ) -> Result<T, ParseError> {
        let raw = self.raw(name)?;
        raw.parse().map_err(|_| ParseError::InvalidValue {
            verb: self.verb,
            field: name,
            value: raw.to_owned(),
        })
    }

    pub(crate) fn parsed<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ParseError> {
        let raw = self.raw(name)?;
        parse(raw).ok_or_else(|| ParseError::InvalidValue {
            verb: self.verb,
            field: name,
            value: raw.to_owned(),
        })
    }

    /// Whether any field is left (an optional trailing group of fields is there).
    pub(crate) fn has_more(&self) -> bool {
        self.rest.is_some()
    }

    /// How many fields are left, for a line whose optional trailing groups are told apart by their number.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.map_or(0, |rest| rest.split(':').count())
    }

    /// Fails if any field is left over.
    pub(crate) fn end(self) -> Result<(), ParseError> {
        match self.rest {
            None => Ok(()),
            Some(_) => Err(ParseError::TooManyFields { verb: self.verb }),
        }
    }
}

/// Builds one line: the verb, then each field escaped, joined by `:`.
#[derive(Debug)]
pub(crate) struct LineBuilder {
    line: String,
}

impl LineBuilder {
    pub(crate) fn new(verb: &str) -> Self {
        let mut line = String::with_capacity(64);
        line.push_str(verb);
        LineBuilder { line }
    }

    pub(crate) fn field(mut self, value: &str) -> Self {
        self.line.push(':');
        self.line.push_str(&encode(value));
        self
    }

    pub(crate) fn num(mut self, value: impl std::fmt::Display) -> Self {
        use std::fmt::Write as _;
        self.line.push(':');
        let _ = write!(self.line, "{value}");
        self
    }

    pub(crate) fn finish(self) -> String {
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_untouched() {
        assert_eq!(encode("alice"), "alice");
        assert_eq!(encode("你好 👋"), "你好 👋");
    }

    #[test]
    fn specials_are_escaped_and_restored() {
        let raw = "50%: a\r\nb";
        let wire = encode(raw);
        assert_eq!(wire, "50%25%3A a%0D%0Ab");
        assert_eq!(decode(&wire).unwrap(), raw);
    }

    #[test]
    fn a_lone_percent_is_literal() {
        assert_eq!(decode("100% sure").unwrap(), "100% sure");
        assert_eq!(decode("50%").unwrap(), "50%");
        assert_eq!(decode("%4").unwrap(), "%4");
    }

    #[test]
    fn escapes_that_break_utf8_are_an_error() {
        assert!(matches!(decode("%FF"), Err(ParseError::BadEscape(_))));
    }
}

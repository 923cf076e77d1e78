//! Line framing for tokio: `\n`-terminated UTF-8 lines (`\r\n` accepted), capped in length.
//!
//! The decoder never holds more than the cap plus one read's worth of bytes: as soon as the buffered bytes
//! without a newline exceed the cap it fails with [`CodecError::LineTooLong`], and the caller answers
//! `ERROR:line_too_long:…` and closes. A line that is not UTF-8 is a recoverable, per-line error.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Framing failures. Both end the connection: after them the stream position is unknown.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("line longer than {max} bytes")]
    LineTooLong { max: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One received line that is not valid UTF-8. The connection carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line is not valid UTF-8")]
pub struct NotUtf8;

/// A `tokio_util` codec for Ququ lines.
#[derive(Debug, Clone)]
pub struct LineCodec {
    max: usize,
    /// How far the buffer has been searched for `\n`, so a long partial line is not rescanned per read.
    scanned: usize,
    /// The last line decoded had no terminator: the connection closed in the middle of it.
    cut_short: bool,
}

impl LineCodec {
    /// A codec refusing lines longer than `max` bytes (terminator excluded).
    pub fn new(max: usize) -> Self {
        LineCodec {
            max,
            scanned: 0,
            cut_short: false,
        }
    }

    /// Whether the line just decoded was the final one, ended by the connection closing instead of a
    /// `\n`. A client that dies in the middle of writing sends such a line: it may be any prefix of what
    /// was meant (`MSG:bob:c1:hel`), so the server refuses it rather than carrying it out.
    pub fn cut_short(&self) -> bool {
        self.cut_short
    }

    pub fn max_len(&self) -> usize {
        self.max
    }
}

impl Default for LineCodec {
    fn default() -> Self {
        LineCodec::new(crate::DEFAULT_MAX_LINE)
    }
}

impl Decoder for LineCodec {
    type Item = Result<String, NotUtf8>;
    type Error = CodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        if self.scanned > buf.len() {
            // The buffer was emptied behind our back (e.g. by [`clear`]): nothing of it has been scanned.
            self.scanned = 0;
        }
        let newline = buf[self.scanned..].iter().position(|b| *b == b'\n');
        let Some(pos) = newline.map(|p| p + self.scanned) else {
            // `\r` may still be followed by `\n`, so allow one byte over the cap before giving up.
            if buf.len() > self.max + 1 {
                self.scanned = 0;
                return Err(CodecError::LineTooLong { max: self.max });
            }
            self.scanned = buf.len();
            return Ok(None);
        };
        self.scanned = 0;
        self.cut_short = false;
        let mut line = buf.split_to(pos + 1);
        line.truncate(pos);
        if line.last() == Some(&b'\r') {
            line.truncate(pos - 1);
        }
        if line.len() > self.max {
            return Err(CodecError::LineTooLong { max: self.max });
        }
        Ok(Some(String::from_utf8(line.to_vec()).map_err(|_| NotUtf8)))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        match self.decode(buf)? {
            Some(line) => Ok(Some(line)),
            None => {
                // A final line without a terminator is handed on, marked [`cut_short`](Self::cut_short),
                // for the caller to refuse with a reason rather than drop in silence.
                if buf.is_empty() {
                    return Ok(None);
                }
                let line = buf.split_to(buf.len());
                self.scanned = 0;
                self.cut_short = true;
                let mut bytes = line.to_vec();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                // `decode` let up to `max + 1` bytes wait for a newline; without one the cap applies as is.
                if bytes.len() > self.max {
                    return Err(CodecError::LineTooLong { max: self.max });
                }
                Ok(Some(String::from_utf8(bytes).map_err(|_| NotUtf8)))
            }
        }
    }
}

impl<T: AsRef<str>> Encoder<T> for LineCodec {
    type Error = CodecError;

    fn encode(&mut self, line: T, buf: &mut BytesMut) -> Result<(), CodecError> {
        let line = line.as_ref();
        buf.reserve(line.len() + 1);
        buf.put_slice(line.as_bytes());
        buf.put_u8(b'\n');
        Ok(())
    }
}

/// Drops any partial line left in `buf`, for a caller that wants to reuse a buffer after an error.
pub fn clear(buf: &mut BytesMut) {
    let len = buf.len();
    buf.advance(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut LineCodec, input: &[u8]) -> Vec<Result<String, NotUtf8>> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(line) = codec.decode(&mut buf).unwrap() {
            out.push(line);
        }
        out
    }

    #[test]
    fn splits_lf_and_crlf_lines() {
        let mut codec = LineCodec::new(100);
        let lines = decode_all(&mut codec, b"LOGIN:a:b\r\nMSG:b:1:hi\nPING");
        assert_eq!(
            lines,
            vec![Ok("LOGIN:a:b".to_owned()), Ok("MSG:b:1:hi".to_owned())]
        );
    }

    #[test]
    fn a_line_arriving_in_pieces_is_joined() {
        let mut codec = LineCodec::new(100);
        let mut buf = BytesMut::from(&b"LOG"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"IN:a:b\n");
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Ok("LOGIN:a:b".into()))
        );
    }

    #[test]
    fn an_overlong_line_fails_before_its_newline_arrives() {
        let mut codec = LineCodec::new(8);
        let mut buf = BytesMut::from(&b"0123456789"[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(CodecError::LineTooLong { max: 8 })
        ));
    }

    #[test]
    fn a_line_exactly_at_the_cap_passes() {
        let mut codec = LineCodec::new(8);
        let lines = decode_all(&mut codec, b"01234567\r\n");
        assert_eq!(lines, vec![Ok("01234567".to_owned())]);
    }

    #[test]
    fn invalid_utf8_is_a_per_line_error() {
        let mut codec = LineCodec::new(100);
        let lines = decode_all(&mut codec, b"\xff\xfe\nPING:1\n");
        assert_eq!(lines, vec![Err(NotUtf8), Ok("PING:1".to_owned())]);
    }

    #[test]
    fn an_unterminated_last_line_is_capped_too() {
        let mut codec = LineCodec::new(8);
        let mut buf = BytesMut::from(&b"012345678"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(CodecError::LineTooLong { max: 8 })
        ));
        let mut buf = BytesMut::from(&b"01234567\r"[..]);
        assert_eq!(
            codec.decode_eof(&mut buf).unwrap(),
            Some(Ok("01234567".to_owned()))
        );
    }

    #[test]
    fn only_a_final_line_without_its_newline_is_cut_short() {
        let mut codec = LineCodec::new(100);
        let mut buf = BytesMut::from(&b"PING:1\nMSG:bob:c1:hel"[..]);
        assert_eq!(
            codec.decode_eof(&mut buf).unwrap(),
            Some(Ok("PING:1".into()))
        );
        assert!(!codec.cut_short());
        assert_eq!(
            codec.decode_eof(&mut buf).unwrap(),
            Some(Ok("MSG:bob:c1:hel".into()))
        );
        assert!(codec.cut_short());
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
        let mut buf = BytesMut::from(&b"PING:2\r\n"[..]);
        assert_eq!(
            codec.decode_eof(&mut buf).unwrap(),
            Some(Ok("PING:2".into()))
        );
        assert!(!codec.cut_short());
    }

    #[test]
    fn a_cleared_buffer_can_be_reused_after_an_error() {
        let mut codec = LineCodec::new(8);
        let mut buf = BytesMut::from(&b"0123"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"456789");
        assert!(codec.decode(&mut buf).is_err());
        clear(&mut buf);
        buf.extend_from_slice(b"PING:1\nPING:2\n");
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Ok("PING:1".into())));
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Ok("PING:2".into())));
    }

    #[test]
    fn encode_appends_a_newline() {
        let mut codec = LineCodec::default();
        let mut buf = BytesMut::new();
        codec.encode("PONG:1", &mut buf).unwrap();
        assert_eq!(&buf[..], b"PONG:1\n");
    }
}

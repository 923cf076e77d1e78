//! Web addresses in a message's text, so a bubble can make them clickable.
//!
//! Only `http://`, `https://` and `www.` addresses become links: a link opens with the OS's opener, and a
//! `file:` or `javascript:` address typed by someone else has no business being one click from running.
//! Punctuation right after an address (a full stop, a comma, a closing bracket with no opening one
//! inside, Chinese punctuation) ends the sentence, not the address.

/// One piece of a message's text: plain, or a web address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// As written in the text; [`href`] gives what to open.
    Link(&'a str),
}

/// The text cut into plain pieces and web addresses, in order; joined, they give the text back.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((start, end)) = next_link(rest) {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Link(&rest[start..end]));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// What to open for a link as written: `www.` addresses get `https://`.
pub fn href(link: &str) -> String {
    if starts_with_ignore_case(link, "www.") {
        format!("https://{link}")
    } else {
        link.to_owned()
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The byte range of the first address in `text`.
fn next_link(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while from < text.len() {
        let start = text[from..]
            .char_indices()
            .map(|(i, _)| from + i)
            .find(|&i| starts_link(text, i))?;
        let end = link_end(text, start);
        let prefix = ["https://", "http://", "www."]
            .iter()
            .find(|p| starts_with_ignore_case(&text[start..], p))
            .map_or(0, |p| p.len());
        // A bare "https://" or "www." is not an address.
        if end > start + prefix {
            return Some((start, end));
        }
        from = start + prefix.max(1);
    }
    None
}

/// An address starts here: a scheme or `www.`, not in the middle of a word (`xhttp://`, `awww.`); a
/// Chinese character right before it is not part of it, as Chinese writes no spaces.
fn starts_link(text: &str, i: usize) -> bool {
    let at = &text[i..];
    let begins = ["https://", "http://", "www."]
        .iter()
        .any(|p| starts_with_ignore_case(at, p));
    begins
        && text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '/' && c != '.')
}

/// Where the address starting at `start` ends: at white space or a character no address has, then
/// without the punctuation that ends a sentence.
fn link_end(text: &str, start: usize) -> usize {
    let mut end = text[start..]
        .char_indices()
        .find(|&(_, c)| {
            c.is_whitespace() || c.is_control() || !c.is_ascii() || "<>\"`{}|\\^".contains(c)
        })
        .map_or(text.len(), |(i, _)| start + i);
    loop {
        let link = &text[start..end];
        let Some(last) = link.chars().next_back() else {
            return end;
        };
        let unbalanced_close = match last {
            ')' => link.matches(')').count() > link.matches('(').count(),
            ']' => link.matches(']').count() > link.matches('[').count(),
            _ => false,
        };
        if ".,;:!?'*".contains(last) || unbalanced_close {
            end -= last.len_utf8();
        } else {
            return end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Piece::{Link, Text};

    #[test]
    fn addresses_are_found_and_sentences_keep_their_punctuation() {
        assert_eq!(
            pieces("see https://example.com/a?b=1&c=2#x."),
            [
                Text("see "),
                Link("https://example.com/a?b=1&c=2#x"),
                Text(".")
            ]
        );
        assert_eq!(
            pieces("(docs: https://en.wikipedia.org/wiki/Rust_(programming_language))"),
            [
                Text("(docs: "),
                Link("https://en.wikipedia.org/wiki/Rust_(programming_language)"),
                Text(")")
            ]
        );
        assert_eq!(
            pieces("看这个www.example.cn/页面，好吗"),
            [Text("看这个"), Link("www.example.cn/"), Text("页面，好吗")]
        );
        assert_eq!(
            pieces("两个：HTTP://A.COM，http://b.org"),
            [
                Text("两个："),
                Link("HTTP://A.COM"),
                Text("，"),
                Link("http://b.org")
            ]
        );
        assert_eq!(href("www.example.cn/"), "https://www.example.cn/");
        assert_eq!(href("http://b.org"), "http://b.org");
    }

    #[test]
    fn what_is_not_an_address_stays_text() {
        for text in [
            "",
            "no links here",
            "https:// and www. alone",
            "file:///etc/passwd javascript:alert(1)",
            "xhttp://evil.com awww.example.com",
            "ftp://old.example.com",
        ] {
            assert!(
                pieces(text).iter().all(|p| matches!(p, Text(_))),
                "{text}: {:?}",
                pieces(text)
            );
            assert_eq!(pieces(text).concat_text(), text);
        }
        // Whatever the text, the pieces give it back.
        let long = format!("start https://example.com/{} end", "a".repeat(3000));
        assert_eq!(pieces(&long).concat_text(), long);
        assert_eq!(pieces(&long).len(), 3);
    }

    trait Concat {
        fn concat_text(&self) -> String;
    }

    impl Concat for Vec<Piece<'_>> {
        fn concat_text(&self) -> String {
            self.iter()
                .map(|p| match p {
                    Text(t) | Link(t) => *t,
                })
                .collect()
        }
    }
}

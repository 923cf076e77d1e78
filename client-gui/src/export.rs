//! A conversation written out to read elsewhere (导出聊天记录): plain text, or one HTML page whose
//! pictures and files link to this device's copies. Nothing is ever imported back.
//!
//! [`render`] is pure (names, words and time zone come in), so both formats are tested as text; the
//! history window's Export button gathers the conversation from the local store, renders it and
//! [`write`]s it into the Downloads folder, then says where it went.

use std::path::{Path, PathBuf};

use ququ_client::Millis;

use crate::model::format_date_time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Html,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Html => "html",
        }
    }
}

/// One message as it is exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub time: Millis,
    /// The sender as the app shows them (remark, nickname or account).
    pub from: String,
    /// What it said: the text, a file's marker and name, or the words for a recall.
    pub text: String,
    /// The quoted message a reply answers: who wrote it and the start of it.
    pub quote: Option<(String, String)>,
    /// A file or picture in it that this device has a copy of: linked (a picture is shown) in HTML.
    pub local: Option<PathBuf>,
    pub picture: bool,
}

/// The whole export. `title` heads it ("Chat history with bob"); times are written at `offset_minutes`
/// east of UTC.
pub fn render(format: Format, title: &str, entries: &[Entry], offset_minutes: i64) -> String {
    match format {
        Format::Text => text(title, entries, offset_minutes),
        Format::Html => html(title, entries, offset_minutes),
    }
}

fn text(title: &str, entries: &[Entry], offset: i64) -> String {
    let mut out = format!("{title}\n{}\n", "=".repeat(title.chars().count().max(8)));
    for e in entries {
        out.push('\n');
        out.push_str(&format!(
            "{}  {}\n",
            format_date_time(e.time, offset),
            e.from
        ));
        if let Some((who, quoted)) = &e.quote {
            out.push_str(&format!("  「{who}：{quoted}」\n"));
        }
        for line in e.text.lines() {
            out.push_str(&format!("  {line}\n"));
        }
        if let Some(local) = &e.local {
            out.push_str(&format!("  ({})\n", local.display()));
        }
    }
    out
}

/// HTML text: the five characters that could start markup or end an attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A `file:` address for a local path, each byte outside the unreserved set percent-encoded (a
/// Chinese file name, a space, `#`).
fn file_url(path: &Path) -> String {
    let raw = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from(if raw.starts_with('/') {
        "file://"
    } else {
        "file:///"
    });
    for b in raw.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn html(title: &str, entries: &[Entry], offset: i64) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>\
body{{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}}\
.m{{margin:1em 0}}.h{{color:#888;font-size:.85em}}.q{{border-left:3px solid #ccc;padding-left:.5em;color:#666}}\
.t{{white-space:pre-wrap}}img{{max-width:320px;max-height:320px}}\
</style></head><body>\n<h1>{t}</h1>\n",
        t = escape(title)
    );
    for e in entries {
        out.push_str(&format!(
            "<div class=\"m\"><div class=\"h\">{} &nbsp; <b>{}</b></div>",
            format_date_time(e.time, offset),
            escape(&e.from)
        ));
        if let Some((who, quoted)) = &e.quote {
            out.push_str(&format!(
                "<div class=\"q\">{}：{}</div>",
                escape(who),
                escape(quoted)
            ));
        }
        match &e.local {
            Some(local) if e.picture => out.push_str(&format!(
                "<div><a href=\"{u}\"><img src=\"{u}\" alt=\"{a}\"></a></div>",
                u = file_url(local),
                a = escape(&e.text)
            )),
            Some(local) => out.push_str(&format!(
                "<div class=\"t\"><a href=\"{}\">{}</a></div>",
                file_url(local),
                escape(&e.text)
            )),
            None => out.push_str(&format!("<div class=\"t\">{}</div>", escape(&e.text))),
        }
        out.push_str("</div>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The file's name: the title and the day, made safe for every file system.
pub fn file_name(title: &str, format: Format, now: Millis, offset_minutes: i64) -> String {
    let day: String = format_date_time(now, offset_minutes)
        .chars()
        .take(10)
        .collect();
    ququ_client::transfer::safe_file_name(&format!("{title} {day}.{}", format.extension()))
}

/// Writes `contents` into `dir` (made if missing) as `name`, or a free variant of it: where it went.
pub async fn write(dir: PathBuf, name: String, contents: String) -> Result<PathBuf, String> {
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let to = crate::clipboard::free_path(&dir, &name);
        std::fs::write(&to, contents).map_err(|e| format!("{}: {e}", to.display()))?;
        Ok(to)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-06 09:05 UTC.
    const T: Millis = 1_796_547_900_000;

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                time: T,
                from: "Bob".into(),
                text: "明天 <b>开会</b> & lunch?\nsecond line".into(),
                quote: None,
                local: None,
                picture: false,
            },
            Entry {
                time: T + 60_000,
                from: "我".into(),
                text: "好的".into(),
                quote: Some(("Bob".into(), "明天 <b>开会</b>".into())),
                local: None,
                picture: false,
            },
            Entry {
                time: T + 120_000,
                from: "Bob".into(),
                text: "[图片]".into(),
                quote: None,
                local: Some(PathBuf::from("/home/b/下载/pic 1.png")),
                picture: true,
            },
        ]
    }

    #[test]
    fn text_export_reads_as_a_transcript() {
        let out = render(Format::Text, "与 Bob 的聊天记录", &entries(), 480);
        assert!(out.starts_with("与 Bob 的聊天记录\n===========\n"), "{out}");
        assert!(
            out.contains("2026-12-06 17:05  Bob\n  明天 <b>开会</b> & lunch?\n  second line\n"),
            "{out}"
        );
        assert!(
            out.contains("2026-12-06 17:06  我\n  「Bob：明天 <b>开会</b>」\n  好的\n"),
            "{out}"
        );
        assert!(
            out.contains("  [图片]\n  (/home/b/下载/pic 1.png)\n"),
            "{out}"
        );
    }

    #[test]
    fn html_export_escapes_text_and_links_pictures() {
        let out = render(Format::Html, "Chat with <Bob>", &entries(), 0);
        assert!(out.contains("<title>Chat with &lt;Bob&gt;</title>"));
        assert!(out.contains("明天 &lt;b&gt;开会&lt;/b&gt; &amp; lunch?\nsecond line"));
        assert!(
            !out.contains("<b>开会"),
            "message text never becomes markup"
        );
        assert!(out.contains("<div class=\"q\">Bob：明天 &lt;b&gt;开会&lt;/b&gt;</div>"));
        let url = "file:///home/b/%E4%B8%8B%E8%BD%BD/pic%201.png";
        assert!(
            out.contains(&format!("<a href=\"{url}\"><img src=\"{url}\"")),
            "{out}"
        );
        assert!(out.contains("2026-12-06 09:05"));
    }

    #[tokio::test]
    async fn an_export_never_overwrites_an_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let name = file_name("Chat history: bob/alice", Format::Html, T, 0);
        assert!(!name.contains('/') && !name.contains(':'), "{name}");
        assert!(name.ends_with("2026-12-06.html"), "{name}");
        let sub = dir.path().join("Downloads");
        let first = write(sub.clone(), name.clone(), "one".into())
            .await
            .unwrap();
        let second = write(sub, name, "two".into()).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read_to_string(first).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(second).unwrap(), "two");
    }
}

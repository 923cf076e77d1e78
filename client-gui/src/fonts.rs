//! The shipped font.
//!
//! A stock Linux desktop often has no CJK font at all, and iced would draw Chinese as tofu boxes. We ship
//! "Ququ Sans", a GB2312 + Latin subset of Noto Sans CJK SC (OFL 1.1; `assets/fonts/subset.py` rebuilds
//! it, `assets/fonts/OFL.txt` is its licence), and make it the default font so Latin and Chinese share
//! one design. Emoji come from a shipped colour emoji font ([`EMOJI_BYTES`]); characters outside both
//! (rare hanzi) fall back to the system's fonts.

use iced::Font;

/// The font file's bytes, compiled in so a double-clicked binary needs nothing beside it.
pub const QUQU_SANS_BYTES: &[u8] = include_bytes!("../../assets/fonts/QuquSans-Regular.otf");

/// Colour emoji: Twemoji as Mozilla builds it into a COLR/CPAL font (version 0, which iced's text
/// stack draws; the COLRv1 Noto Color Emoji of recent Linux systems comes out blank, and the bitmap
/// one is 10 MB). 1.4 MB for Unicode 15's emoji; no system font is needed for them then.
pub const EMOJI_BYTES: &[u8] = include_bytes!("../../assets/fonts/TwemojiMozilla.ttf");

/// The emoji font's family. Text with emoji names it for their runs ([`emoji_runs`]): left to iced's
/// fallback, a system font that has some emoji in black and white (DejaVu Sans has the smileys
/// U+1F600–1F64F) is taken before it.
pub const EMOJI: Font = Font::with_name("Twemoji Mozilla");

/// `text` cut into runs of emoji (`true`) and of other text (`false`), in order. An emoji run keeps its
/// joiners, variation selectors, skin tones and keycaps, so a sequence stays one glyph.
pub fn emoji_runs(text: &str) -> Vec<(&str, bool)> {
    let mut runs: Vec<(&str, bool)> = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        // Joiners and selectors belong to the run they are in.
        let kind = if is_emoji_mark(c) {
            current.unwrap_or(false)
        } else {
            is_emoji(c)
        };
        if current.is_some_and(|k| k != kind) {
            runs.push((&text[start..i], current.unwrap_or(false)));
            start = i;
        }
        current = Some(kind);
    }
    if let Some(kind) = current {
        runs.push((&text[start..], kind));
    }
    runs
}

/// Marks the emoji in the chat input, so the editor draws them from the emoji font (a text editor has
/// one font; its highlighter may give runs another).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmojiHighlighter {
    line: usize,
}

impl iced::advanced::text::Highlighter for EmojiHighlighter {
    type Settings = ();
    /// Every highlighted run is an emoji run.
    type Highlight = ();
    type Iterator<'a> = std::vec::IntoIter<(std::ops::Range<usize>, ())>;

    fn new(_settings: &()) -> Self {
        EmojiHighlighter::default()
    }

    fn update(&mut self, _settings: &()) {
        self.line = 0;
    }

    fn change_line(&mut self, line: usize) {
        self.line = self.line.min(line);
    }

    fn highlight_line(&mut self, line: &str) -> Self::Iterator<'_> {
        self.line += 1;
        let mut at = 0;
        let mut runs = Vec::new();
        for (run, emoji) in emoji_runs(line) {
            if emoji {
                runs.push((at..at + run.len(), ()));
            }
            at += run.len();
        }
        runs.into_iter()
    }

    fn current_line(&self) -> usize {
        self.line
    }
}

/// How [`EmojiHighlighter`]'s runs are drawn.
pub fn emoji_format(_: &(), _: &iced::Theme) -> iced::advanced::text::highlighter::Format<Font> {
    iced::advanced::text::highlighter::Format {
        color: None,
        font: Some(EMOJI),
    }
}

/// A character drawn from the emoji font: the pictographs and symbols it has in colour.
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF // pictographs, emoticons, transport, flags' letters, supplemental symbols
        | 0x2600..=0x27BF // miscellaneous symbols and dingbats (☀ ☕ ✌ ❤ ✅)
        | 0x2300..=0x23FF // ⌚ ⌛ ⏰
        | 0x2B05..=0x2B55 // ⬅ ⬆ ⭐ ⭕
        | 0x3297 | 0x3299 // ㊗ ㊙
    )
}

/// Marks that continue an emoji: zero-width joiner, variation selectors, keycap, tags.
fn is_emoji_mark(c: char) -> bool {
    matches!(
        c as u32,
        0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
    )
}

/// Every font the app loads, in the order iced gets them (the app, and the tests' simulator, load
/// exactly these).
pub const ALL: [&[u8]; 2] = [QUQU_SANS_BYTES, EMOJI_BYTES];

/// The family as named inside the file (renamed from Noto, as the OFL asks of modified fonts).
pub const QUQU_SANS: Font = Font::with_name("Ququ Sans");

#[cfg(test)]
mod tests {
    #[test]
    fn emoji_runs_keep_sequences_whole() {
        assert_eq!(
            super::emoji_runs("OK 👍🏽 好的😂!"),
            [
                ("OK ", false),
                ("👍🏽", true),
                (" 好的", false),
                ("😂", true),
                ("!", false)
            ]
        );
        // A family (joined by U+200D) and a red heart (U+2764 U+FE0F) stay one run each.
        assert_eq!(
            super::emoji_runs("👨‍👩‍👧 ❤️"),
            [("👨‍👩‍👧", true), (" ", false), ("❤️", true)]
        );
        assert_eq!(super::emoji_runs(""), []);
        assert_eq!(super::emoji_runs("plain"), [("plain", false)]);
    }

    /// Every character the UI's source writes outside comments — labels, symbols such as `…`, `·`, `—`,
    /// arrows, the emoji the picker offers — must be in a shipped font. A character missing from it is drawn from whatever fallback
    /// font the system has, and a fresh Windows or macOS may have none: under Wine the header's `⚙` came
    /// out blank. Such a symbol belongs in the font (assets/fonts/subset.py) if its source font has it, or
    /// becomes a shipped icon (assets/icons/, like the settings gear).
    #[test]
    fn every_character_the_ui_writes_is_in_the_shipped_font() {
        // Text from Ququ Sans, emoji (the picker's, the toolbar's smiley) from the emoji font.
        let faces: Vec<_> = super::ALL
            .iter()
            .map(|bytes| ttf_parser::Face::parse(bytes, 0).expect("a shipped font parses"))
            .collect();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut dirs = vec![src];
        let mut files = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    // Comments are not drawn; this test's own prose (the `⚙` above) included.
                    if line.trim_start().starts_with("//") {
                        continue;
                    }
                    for c in line.chars().filter(|c| !c.is_ascii()) {
                        // Variation selectors pick a glyph's style; they have none of their own.
                        if c == '\u{FE0F}' || c == '\u{FE0E}' {
                            continue;
                        }
                        if faces.iter().all(|face| face.glyph_index(c).is_none()) {
                            missing.push(format!(
                                "U+{:04X} {c} at {}:{}",
                                c as u32,
                                path.display(),
                                n + 1
                            ));
                        }
                    }
                }
            }
        }
        assert!(files > 10, "found only {files} source files under src/");
        assert!(
            missing.is_empty(),
            "not in the shipped font:\n{}",
            missing.join("\n")
        );
    }
}

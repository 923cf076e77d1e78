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

/// Every font the app loads, in the order iced gets them (the app, and the tests' simulator, load
/// exactly these).
pub const ALL: [&[u8]; 2] = [QUQU_SANS_BYTES, EMOJI_BYTES];

/// The family as named inside the file (renamed from Noto, as the OFL asks of modified fonts).
pub const QUQU_SANS: Font = Font::with_name("Ququ Sans");

#[cfg(test)]
mod tests {
    /// Every character the UI's source writes outside comments — labels, symbols such as `…`, `·`, `—`,
    /// arrows — must be in the shipped font. A character missing from it is drawn from whatever fallback
    /// font the system has, and a fresh Windows or macOS may have none: under Wine the header's `⚙` came
    /// out blank. Such a symbol belongs in the font (assets/fonts/subset.py) if its source font has it, or
    /// becomes a shipped icon (assets/icons/, like the settings gear).
    #[test]
    fn every_character_the_ui_writes_is_in_the_shipped_font() {
        let face =
            ttf_parser::Face::parse(super::QUQU_SANS_BYTES, 0).expect("the shipped font parses");
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
                        if face.glyph_index(c).is_none() {
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

//! The shipped font.
//!
//! A stock Linux desktop often has no CJK font at all, and iced would draw Chinese as tofu boxes. We ship
//! "Ququ Sans", a GB2312 + Latin subset of Noto Sans CJK SC (OFL 1.1; `assets/fonts/subset.py` rebuilds
//! it, `assets/fonts/OFL.txt` is its licence), and make it the default font so Latin and Chinese share
//! one design. Characters outside the subset (rare hanzi, emoji) fall back to the system's fonts.

use iced::Font;

/// The font file's bytes, compiled in so a double-clicked binary needs nothing beside it.
pub const QUQU_SANS_BYTES: &[u8] = include_bytes!("../../assets/fonts/QuquSans-Regular.otf");

/// The family as named inside the file (renamed from Noto, as the OFL asks of modified fonts).
pub const QUQU_SANS: Font = Font::with_name("Ququ Sans");

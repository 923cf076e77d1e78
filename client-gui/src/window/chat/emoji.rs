//! The emoji picker, opened from the chat toolbar's smiley: the emoji used lately, then categories, as
//! QQ's panel has them. A pick goes into the input at the cursor and closes the picker; the app keeps
//! the recent ones in the settings (the newest first, [`RECENT_KEPT`] of them).
//!
//! The emoji are single code points the shipped Twemoji font draws (a test checks each), so every one
//! shows in colour wherever the app runs.

use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Center, Element, Fill};

use crate::widget::Ctx;
use crate::{fonts, theme};

/// How many recently used emoji the settings keep.
pub const RECENT_KEPT: usize = 24;

/// Emoji per row of the grid.
const COLUMNS: usize = 8;

/// A tab of the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Recent,
    /// An index into [`CATEGORIES`].
    Category(usize),
}

/// The categories: the tab's own emoji, then its emoji.
pub const CATEGORIES: [(&str, &[&str]); 6] = [
    (
        "😀",
        &[
            "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌",
            "😍", "🥰", "😘", "😋", "😛", "😜", "🤪", "😝", "🤗", "🤭", "🤫", "🤔", "🤐", "😐",
            "😑", "😶", "😏", "😒", "🙄", "😬", "😴", "😪", "😷", "🤒", "🤕", "🤢", "🤮", "🥵",
            "🥶", "😵", "🤯", "🥳", "😎", "🤓", "😕", "😟", "🙁", "😮", "😯", "😲", "😳", "🥺",
            "😦", "😧", "😨", "😰", "😥", "😢", "😭", "😱", "😖", "😣", "😞", "😓", "😩", "😫",
            "🥱", "😤", "😡", "😠", "🤬", "😈", "💀", "💩", "🤡", "👻", "👽", "🤖",
        ],
    ),
    (
        "👍",
        &[
            "👍", "👎", "👌", "🤌", "✌", "🤞", "🤟", "🤘", "🤙", "👈", "👉", "👆", "👇", "👋",
            "🤚", "✋", "🖖", "👏", "🙌", "👐", "🤲", "🤝", "🙏", "✍", "💪", "👀", "🙈", "🙉",
            "🙊", "💯", "💢", "💥", "💦", "💤", "🎉", "🎊", "🎈", "🎁", "🔥", "✨", "⭐", "🌟",
        ],
    ),
    (
        "🍜",
        &[
            "🍜", "🍚", "🍙", "🍘", "🍥", "🥟", "🥠", "🥡", "🍱", "🍣", "🍤", "🍲", "🍛", "🍝",
            "🍞", "🥐", "🥖", "🥨", "🧀", "🥚", "🍳", "🥞", "🥓", "🍔", "🍟", "🍕", "🌭", "🥪",
            "🌮", "🌯", "🥗", "🍿", "🍦", "🍧", "🍨", "🍩", "🍪", "🎂", "🍰", "🧁", "🍫", "🍬",
            "🍭", "🍮", "🍯", "🍼", "☕", "🍵", "🧋", "🍶", "🍺", "🍻", "🥂", "🍷", "🍸", "🍹",
            "🍎", "🍊", "🍋", "🍌", "🍉", "🍇", "🍓", "🍒", "🍑", "🥭", "🍍", "🥝", "🍅", "🥑",
        ],
    ),
    (
        "🐱",
        &[
            "🐶", "🐱", "🐭", "🐹", "🐰", "🦊", "🐻", "🐼", "🐨", "🐯", "🦁", "🐮", "🐷", "🐸",
            "🐵", "🐔", "🐧", "🐦", "🐤", "🦆", "🦉", "🐺", "🐴", "🦄", "🐝", "🐛", "🦋", "🐌",
            "🐞", "🐢", "🐍", "🐙", "🐠", "🐬", "🐳", "🌸", "🌹", "🌺", "🌻", "🌼", "🌷", "🌱",
            "🌲", "🌳", "🌴", "🍀", "🍁", "🍂", "🌈", "🌙", "🌞", "⛅", "🌧", "❄", "⛄",
        ],
    ),
    (
        "⚽",
        &[
            "⚽", "🏀", "🏈", "⚾", "🎾", "🏐", "🏓", "🏸", "🥊", "⛳", "🎣", "🎿", "⛸", "🏆",
            "🥇", "🥈", "🥉", "🏅", "🎮", "🎲", "🧩", "🎯", "🎳", "🎤", "🎧", "🎸", "🎹", "🎺",
            "🎻", "🥁", "🎬", "🎨", "📷", "📱", "💻", "⌚", "📚", "✏", "📌", "📎", "🔑", "💡",
            "💰", "🧧", "🏮", "🚗", "🚲", "🚄", "✈", "🚀", "🏠", "🏫", "🏥", "⛰", "🏖",
        ],
    ),
    (
        "❤",
        &[
            "❤", "🧡", "💛", "💚", "💙", "💜", "🖤", "🤍", "💔", "💕", "💞", "💓", "💗", "💖",
            "💘", "💝", "💌", "💋", "🌹", "✅", "❌", "❓", "❗", "⭕", "🆗", "🆒", "🆕", "🆘",
            "🔔", "🎵", "🈶", "🈚", "🉐", "🈲", "🈳", "🈵", "㊗", "㊙", "🀄", "🎴",
        ],
    ),
];

/// The picker, open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub tab: Tab,
}

impl State {
    /// Opens on the recent emoji if there are any, else on the first category.
    pub fn new(any_recent: bool) -> State {
        State {
            tab: if any_recent {
                Tab::Recent
            } else {
                Tab::Category(0)
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Tab(Tab),
    Pick(String),
}

/// What the chat window does with the picker's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Put this emoji into the input and close the picker.
    Pick(String),
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Tab(tab) => {
                self.tab = tab;
                None
            }
            Message::Pick(emoji) => Some(Event::Pick(emoji)),
        }
    }

    pub fn view<'a>(&self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let recent = &ctx.settings.recent_emoji;
        let tab_button = |label: &'a str, tab: Tab| {
            button(text(label).size(18).font(fonts::EMOJI))
                .padding([2, 8])
                .style(theme::picker_tab(self.tab == tab))
                .on_press(Message::Tab(tab))
        };
        let mut tabs = row![tab_button("🕘", Tab::Recent)].spacing(2);
        for (n, (label, _)) in CATEGORIES.iter().enumerate() {
            tabs = tabs.push(tab_button(label, Tab::Category(n)));
        }
        let shown: Vec<String> = match self.tab {
            Tab::Recent => recent.clone(),
            Tab::Category(n) => CATEGORIES
                .get(n)
                .map(|(_, all)| all.iter().map(|e| (*e).to_owned()).collect())
                .unwrap_or_default(),
        };
        let grid: Element<'a, Message> = if shown.is_empty() {
            container(
                text(ctx.tr().no_recent_emoji)
                    .size(12)
                    .style(theme::muted_text),
            )
            .center_x(Fill)
            .padding(20)
            .into()
        } else {
            // Room on the right for the scroll bar, which would otherwise cover the last column.
            let mut grid = column![].spacing(2).padding(iced::Padding {
                right: 14.0,
                ..iced::Padding::ZERO
            });
            for chunk in shown.chunks(COLUMNS) {
                let mut line = row![].spacing(2);
                for emoji in chunk {
                    line = line.push(
                        button(text(emoji.clone()).size(22).font(fonts::EMOJI).center())
                            .width(38)
                            .height(38)
                            .padding(0)
                            .style(theme::list_item)
                            .on_press(Message::Pick(emoji.clone())),
                    );
                }
                grid = grid.push(line);
            }
            scrollable(grid).height(200).into()
        };
        container(column![tabs, iced::widget::rule::horizontal(1), grid].spacing(6))
            .padding(8)
            .width(COLUMNS as f32 * 40.0 + 40.0)
            .align_x(Center)
            .style(theme::card)
            .into()
    }
}

/// `emoji` used now: first among the recent ones, each once, at most [`RECENT_KEPT`].
pub fn remember(recent: &mut Vec<String>, emoji: &str) {
    recent.retain(|e| e != emoji);
    recent.insert(0, emoji.to_owned());
    recent.truncate(RECENT_KEPT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emoji_offered_is_one_the_shipped_font_draws() {
        let face = ttf_parser::Face::parse(crate::fonts::EMOJI_BYTES, 0).expect("the emoji font");
        let mut missing = Vec::new();
        let mut count = 0;
        for (label, all) in CATEGORIES {
            for emoji in std::iter::once(&label).chain(all.iter()) {
                count += 1;
                let mut chars = emoji.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    missing.push(format!("{emoji} is not one code point"));
                    continue;
                };
                if face.glyph_index(c).is_none() {
                    missing.push(format!("U+{:04X} {emoji}", c as u32));
                }
            }
        }
        assert!(count > 300, "{count}");
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn recent_emoji_are_newest_first_once_each_and_capped() {
        let mut recent = Vec::new();
        for e in ["😀", "👍", "😀"] {
            remember(&mut recent, e);
        }
        assert_eq!(recent, ["😀", "👍"]);
        for n in 0..30 {
            remember(&mut recent, CATEGORIES[2].1[n]);
        }
        assert_eq!(recent.len(), RECENT_KEPT);
        assert_eq!(recent[0], CATEGORIES[2].1[29]);
    }
}

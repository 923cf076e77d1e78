//! Settings: language, theme, my avatar, notifications, logging in automatically (and where the login
//! is kept), starting with the computer, log out, About.

use iced::widget::{button, checkbox, column, pick_list, row, space, text};
use iced::{Center, Element, Fill};

use super::Event;
use crate::avatar;
use crate::i18n::Lang;
use crate::model::Model;
use crate::notify::Prefs;
use crate::theme::{self, ThemePref};
use crate::widget::Ctx;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// A problem to show (an avatar image that could not be read, the autostart entry not written).
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Language(LangChoice),
    Theme(ThemeChoice),
    /// The notification switches: on, with the text, with a sound.
    Notify(Prefs),
    /// Start the server this app hosts again with the app.
    Rehost(bool),
    AutoLogin(bool),
    StartWithOs(bool),
    AutoPictures(PictureChoice),
    PickAvatar,
    ResetAvatar,
    /// Open my profile (nickname, signature, gender, region), from what the server has now.
    EditProfile(Box<super::profile::State>),
    ChangePassword,
    /// Open the block list.
    BlockList,
    Logout,
    About,
    Close,
}

/// A language choice: a language, or "follow system".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LangChoice(pub Option<Lang>, pub &'static str);

impl std::fmt::Display for LangChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
    }
}

/// A size up to which pictures download by themselves, in MB (0: never), with its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureChoice(pub u32, pub &'static str);

impl std::fmt::Display for PictureChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0 => f.write_str(self.1),
            mb => write!(f, "{mb} MB"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThemeChoice(pub ThemePref, pub &'static str);

impl std::fmt::Display for ThemeChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
    }
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        Some(match message {
            Message::EditProfile(state) => Event::Show(super::Dialog::Profile(*state)),
            Message::Language(choice) => Event::SetLang(choice.0),
            Message::Theme(choice) => Event::SetTheme(choice.0),
            Message::Notify(prefs) => Event::SetNotify(prefs),
            Message::Rehost(on) => Event::Rehost(on),
            Message::AutoLogin(on) => Event::AutoLogin(on),
            Message::StartWithOs(on) => Event::StartWithOs(on),
            Message::AutoPictures(choice) => Event::AutoPictures(choice.0),
            Message::PickAvatar => Event::PickAvatar,
            Message::ResetAvatar => Event::ResetAvatar,
            Message::ChangePassword => Event::Show(super::Dialog::Password(Default::default())),
            Message::BlockList => Event::Show(super::Dialog::Blocked),
            Message::Logout => Event::Logout,
            Message::About => Event::OpenAbout,
            Message::Close => Event::Close,
        })
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let langs: Vec<LangChoice> = std::iter::once(LangChoice(None, tr.theme_system))
            .chain(
                Lang::ALL
                    .iter()
                    .map(|l| LangChoice(Some(*l), l.native_name())),
            )
            .collect();
        let current_lang = langs.iter().copied().find(|c| c.0 == ctx.settings.lang);
        let themes = vec![
            ThemeChoice(ThemePref::System, tr.theme_system),
            ThemeChoice(ThemePref::Light, tr.theme_light),
            ThemeChoice(ThemePref::Dark, tr.theme_dark),
        ];
        let current_theme = themes.iter().copied().find(|c| c.0 == ctx.settings.theme);
        let body = column![
            row![
                text(tr.language).size(14).width(90),
                pick_list(langs, current_lang, Message::Language)
                    .width(Fill)
                    .style(theme::pick_list)
            ]
            .align_y(Center),
            row![
                text(tr.theme).size(14).width(90),
                pick_list(themes, current_theme, Message::Theme)
                    .width(Fill)
                    .style(theme::pick_list)
            ]
            .align_y(Center),
            // My account: its password, and who I have blocked (黑名单; someone who is not a friend is
            // found nowhere else).
            row![
                text(tr.my_account).size(13).width(90),
                // Closer together than the rows' 8 px, so both fit in English.
                row![
                    button(text(tr.change_password_item).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::ChangePassword),
                    // Without the count, which the list's title has: with it the button broke over two
                    // lines in English ("Blocked (1)…" in a 300 px card, seen under Xvfb).
                    button(text(format!("{}…", ctx.lang.block_list(0))).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::BlockList),
                ]
                .spacing(4),
            ]
            .spacing(8)
            .align_y(Center),
            // Me as friends see me: my profile is edited in its own dialog (as from my avatar in the
            // friend list's header), the avatar here too.
            row![
                avatar::view(model.my_name(), &model.account, ctx.my_avatar, 40.0),
                column![
                    button(text(tr.edit_profile).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::EditProfile(Box::new(super::profile::State::of(
                            model
                        )))),
                    row![
                        button(text(tr.change_avatar).size(13))
                            .style(theme::link)
                            .padding(0)
                            .on_press(Message::PickAvatar),
                        button(text(tr.reset_avatar).size(13))
                            .style(theme::link)
                            .padding(0)
                            .on_press(Message::ResetAvatar),
                    ]
                    .spacing(12),
                ]
                .spacing(6),
            ]
            .spacing(12)
            .align_y(Center),
            notifications(ctx),
        ]
        // Only while this app hosts the server: whether it starts it again next time.
        .push(ctx.hosting.map(|_| {
            checkbox(ctx.settings.host_again.is_some())
                .label(tr.host_again)
                .size(16)
                .text_size(13)
                .on_toggle(Message::Rehost)
        }))
        .push(switch(
            tr.auto_login,
            ctx.settings.auto_login,
            Message::AutoLogin,
        ))
        // Where the login is kept, while it is.
        .push(
            ctx.token_place
                .filter(|_| ctx.settings.auto_login)
                .map(|place| {
                    row![
                        space().width(24),
                        text(place.words(ctx.lang))
                            .size(12)
                            .style(theme::muted_text)
                    ]
                }),
        )
        .push(auto_pictures(ctx))
        .push(switch(
            tr.start_with_os,
            ctx.settings.start_with_os,
            Message::StartWithOs,
        ))
        .push(
            self.notice
                .as_deref()
                .map(|n| text(n).size(12).style(theme::error_text)),
        )
        .push(
            row![
                button(text(tr.log_out).size(13))
                    .style(theme::danger_button)
                    .on_press(Message::Logout),
                space().width(Fill),
                button(text(tr.about).size(13))
                    .style(theme::link)
                    .on_press(Message::About),
                button(text(tr.close).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Close),
            ]
            .spacing(4)
            .align_y(Center),
        )
        .spacing(12);
        (tr.settings.to_owned(), body.into())
    }
}

/// How big a picture may be and still download by itself as it arrives.
fn auto_pictures<'a>(ctx: &Ctx<'a>) -> Element<'a, Message> {
    let tr = ctx.tr();
    let mut choices: Vec<PictureChoice> = crate::config::AUTO_PICTURE_CHOICES
        .iter()
        .map(|&mb| PictureChoice(mb, tr.auto_pictures_off))
        .collect();
    // A size set by hand in the settings file is shown as it is, not as none of the choices.
    let current = PictureChoice(ctx.settings.auto_pictures_mb, tr.auto_pictures_off);
    if !choices.contains(&current) {
        choices.push(current);
        choices.sort_by_key(|c| c.0);
    }
    row![
        text(tr.auto_pictures).size(13).width(Fill),
        pick_list(choices, Some(current), Message::AutoPictures)
            .width(110)
            .text_size(13)
            .style(theme::pick_list)
    ]
    .spacing(8)
    .align_y(Center)
    .into()
}

/// One switch of the dialog.
fn switch<'a>(label: &'a str, on: bool, change: fn(bool) -> Message) -> Element<'a, Message> {
    checkbox(on)
        .label(label)
        .size(16)
        .text_size(13)
        .on_toggle(change)
        .into()
}

/// The notification switches; the text and sound ones only matter, and only answer, while notifications
/// are on. Why the desktop shows none, if it does not, is said under them.
fn notifications<'a>(ctx: &Ctx<'a>) -> Element<'a, Message> {
    let tr = ctx.tr();
    let prefs = ctx.settings.notify_prefs();
    let switch = |label: &'a str, on: bool, enabled: bool, change: fn(Prefs, bool) -> Prefs| {
        checkbox(on)
            .label(label)
            .size(16)
            .text_size(13)
            .on_toggle_maybe(enabled.then_some(move |on| Message::Notify(change(prefs, on))))
    };
    column![
        switch(tr.notifications, prefs.enabled, true, |p, on| Prefs {
            enabled: on,
            ..p
        }),
        row![
            space().width(24),
            column![
                switch(tr.notify_preview, prefs.preview, prefs.enabled, |p, on| {
                    Prefs { preview: on, ..p }
                }),
                switch(tr.notify_sound, prefs.sound, prefs.enabled, |p, on| Prefs {
                    sound: on,
                    ..p
                }),
            ]
            .spacing(6)
        ],
    ]
    .push(
        ctx.notify_problem
            .filter(|_| prefs.enabled)
            .map(|why| text(why.words(ctx.lang)).size(12).style(theme::muted_text)),
    )
    .push(
        ctx.tray_problem
            .map(|why| text(why.words(ctx.lang)).size(12).style(theme::muted_text)),
    )
    .spacing(6)
    .into()
}

//! The contact list: QQ's tall window with friends, groups and recent chats (the app's main window).
//!
//! Top: my avatar, nickname and state on the blue header, with the search box. Then tabs for friends,
//! groups and recent chats; lists with avatars, online marks and live unread badges. Double-clicking a
//! row opens its chat; right-clicking offers the row's actions. The dialogs (add friend, requests,
//! menus, remark, groups, settings) float over the list; each lives in its own module under
//! [`crate::dialog`], and this window only opens them and carries out what they ask.

use iced::widget::{
    button, column, container, image, mouse_area, row, scrollable, space, text, text_input,
};
use iced::{Center, Element, Fill, mouse};
use ququ_protocol::Conv;

use crate::avatar;
use crate::dialog::{self, Dialog};
use crate::i18n::Lang;
use crate::model::{Change, Connection, Model};
use crate::net::Command;
use crate::theme::{self, ThemePref};
use crate::widget::{
    Ctx, avatar_with_dot, badge, badge_muted, connection_label, modal, one_line, popup_at,
    state_dot, status_bar, status_bar_with, user_text,
};

pub const SEARCH_INPUT: &str = "main-search";
/// The header's settings button (an icon, no text to find it by in the simulator tests).
pub const SETTINGS_BUTTON: &str = "settings-button";

/// The gear on the settings button. An icon shipped with the app, not the ⚙ character: U+2699 is not
/// in the shipped font, and a fresh Windows (as under Wine) has no fallback font that draws it, so the
/// button was blank there. Rendered from assets/icons/settings.svg by make-icons.sh.
static SETTINGS_ICON: std::sync::LazyLock<image::Handle> = std::sync::LazyLock::new(|| {
    image::Handle::from_bytes(&include_bytes!("../../../assets/icons/settings.png")[..])
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Friends,
    Groups,
    Recent,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub tab: Tab,
    pub search: String,
    pub selected: Option<Conv>,
    /// The dialog over the list, if any.
    pub dialog: Option<Dialog>,
    /// Hidden to the tray (the window stays, unmapped, so the list keeps its tab, search and dialog).
    pub hidden: bool,
    /// The server refused something asked from here that no open dialog is waiting to explain: said
    /// in words above the footer until dismissed or the next dialog opens.
    pub refused: Option<ququ_protocol::ErrorCode>,
    /// Where the pointer is over the window: a right-click's menu opens there.
    pub pointer: iced::Point,
    /// The open dialog is a friend's or group's menu, at this point (a pop-up beside the pointer, as a
    /// desktop's context menu, not a card over the whole window).
    pub menu_at: Option<iced::Point>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    TabSelected(Tab),
    SearchChanged(String),
    Select(Conv),
    Open(Conv),
    Show(Dialog),
    Dialog(dialog::Message),
    /// The status bar's "Reconnect now" during the countdown.
    ReconnectNow,
    /// The × on a refusal's words.
    DismissRefusal,
    /// The footer's Chat history: search all chats.
    OpenHistory,
    /// The pointer moved over the window.
    Pointer(iced::Point),
    /// A click outside the open menu.
    CloseMenu,
    /// A friend group's header was clicked: fold it shut (`true`) or open it.
    FoldCategory(u64, bool),
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    OpenChat(Conv),
    Net(Command),
    SetLang(Option<Lang>),
    SetTheme(ThemePref),
    SetNotify(crate::notify::Prefs),
    Rehost(bool),
    AutoLogin(bool),
    StartWithOs(bool),
    /// Download pictures up to this many MB as they arrive (0: never).
    AutoPictures(u32),
    Pin(Conv, bool),
    Mute(Conv, bool),
    /// Fold a friend group shut in the friend list (`true`) or open it; kept per account.
    FoldCategory(u64, bool),
    PickAvatar,
    ResetAvatar,
    OpenAbout,
    /// The history window on all chats.
    OpenHistory,
    OpenGroupSettings(u64),
    DismissDeclined(String),
    /// Quit, confirmed.
    Quit,
    /// Hide to the tray, as told the first time.
    HideToTray,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::TabSelected(tab) => self.tab = tab,
            Message::SearchChanged(s) => self.search = s,
            Message::Select(conv) => self.selected = Some(conv),
            Message::Open(conv) => {
                self.selected = Some(conv.clone());
                return Some(Event::OpenChat(conv));
            }
            Message::DismissRefusal => self.refused = None,
            Message::Pointer(at) => self.pointer = at,
            Message::CloseMenu => {
                self.dialog = None;
                self.menu_at = None;
            }
            Message::Show(dialog) => {
                self.refused = None;
                self.menu_at = dialog.is_menu().then_some(self.pointer);
                let ask = dialog.on_open().map(Event::Net);
                self.dialog = Some(dialog);
                return ask;
            }
            Message::Dialog(message) => {
                let event = self.dialog.as_mut()?.update(message)?;
                return self.on_dialog(event);
            }
            Message::FoldCategory(category, on) => return Some(Event::FoldCategory(category, on)),
            Message::ReconnectNow => return Some(Event::Net(Command::ReconnectNow)),
            Message::OpenHistory => return Some(Event::OpenHistory),
        }
        None
    }

    /// Something changed in the model: a dialog waiting for it may be done.
    pub fn changed(&mut self, change: &Change) -> Option<Event> {
        // A refusal no dialog is waiting for is not swallowed: it is said here (issue 25).
        if let Change::Refused { code, .. } = change
            && !self.dialog.as_ref().is_some_and(|d| d.explains(code))
        {
            self.refused = Some(code.clone());
            return None;
        }
        let event = self.dialog.as_mut()?.changed(change)?;
        self.on_dialog(event)
    }

    /// A problem with the avatar just picked, for the dialog it was picked in (`None`: it took).
    pub fn avatar_notice(&mut self, notice: Option<String>) {
        match &mut self.dialog {
            Some(Dialog::Settings(state)) => state.notice = notice,
            Some(Dialog::Profile(state)) => state.notice = notice,
            _ => {}
        }
    }

    /// What the open dialog asked for.
    fn on_dialog(&mut self, event: dialog::Event) -> Option<Event> {
        use dialog::Event as D;
        match event {
            D::Close => self.dialog = None,
            D::Show(dialog) => return self.update(Message::Show(dialog)),
            D::OpenChat(conv) => return self.update(Message::Open(conv)),
            D::Pin(conv, on) => {
                self.dialog = None;
                return Some(Event::Pin(conv, on));
            }
            D::Mute(conv, on) => {
                self.dialog = None;
                return Some(Event::Mute(conv, on));
            }
            D::Net(command) => return Some(Event::Net(command)),
            D::NetAndClose(command) => {
                self.dialog = None;
                return Some(Event::Net(command));
            }
            D::ToGroups(command) => {
                self.dialog = None;
                self.tab = Tab::Groups;
                return command.map(Event::Net);
            }
            D::SetLang(lang) => return Some(Event::SetLang(lang)),
            D::SetTheme(theme) => return Some(Event::SetTheme(theme)),
            D::SetNotify(prefs) => return Some(Event::SetNotify(prefs)),
            D::Rehost(on) => return Some(Event::Rehost(on)),
            D::AutoLogin(on) => return Some(Event::AutoLogin(on)),
            D::StartWithOs(on) => return Some(Event::StartWithOs(on)),
            D::AutoPictures(mb) => return Some(Event::AutoPictures(mb)),
            D::PickAvatar => return Some(Event::PickAvatar),
            D::ResetAvatar => return Some(Event::ResetAvatar),
            D::OpenAbout => {
                self.dialog = None;
                return Some(Event::OpenAbout);
            }
            D::GroupSettings(group) => {
                self.dialog = None;
                return Some(Event::OpenGroupSettings(group));
            }
            D::Logout => {
                self.dialog = None;
                return Some(Event::Net(Command::Logout));
            }
            D::DismissDeclined(account) => return Some(Event::DismissDeclined(account)),
            D::Quit => {
                self.dialog = None;
                return Some(Event::Quit);
            }
            D::HideToTray => {
                self.dialog = None;
                return Some(Event::HideToTray);
            }
        }
        None
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let Some(model) = ctx.model else {
            return status_bar(ctx);
        };
        let tr = ctx.tr();

        let header = {
            // My signature under my name, as QQ's header has it: one line, cut at the edge rather
            // than making the header taller.
            let signature = model.profile.signature.trim();
            let me = column![
                text(model.my_name().to_owned()).size(17),
                row![state_dot(ctx.conn), text(connection_label(ctx)).size(12)]
                    .spacing(5)
                    .align_y(Center),
            ]
            .push((!signature.is_empty()).then(|| {
                container(
                    text(crate::widget::one_line(signature))
                        .size(12)
                        .wrapping(iced::widget::text::Wrapping::None)
                        .style(theme::header_muted),
                )
                .clip(true)
            }))
            .spacing(3);
            let tools = row![
                header_button("+", Message::Show(Dialog::add_friend())),
                container(
                    button(
                        container(image(SETTINGS_ICON.clone()).width(18).height(18))
                            .center_x(Fill)
                            .padding([3, 0]),
                    )
                    .width(32)
                    .padding([2, 0])
                    .style(theme::header_button)
                    .on_press(Message::Show(Dialog::settings())),
                )
                .id(SETTINGS_BUTTON),
            ]
            .spacing(2);
            let search = text_input(tr.search, &self.search)
                .id(SEARCH_INPUT)
                .on_input(Message::SearchChanged)
                .padding([5, 12])
                .size(13)
                .style(theme::search_box);
            container(
                column![
                    row![
                        // My avatar opens my profile, as QQ's does.
                        button(avatar::view(
                            model.my_name(),
                            &model.account,
                            ctx.my_avatar,
                            52.0
                        ))
                        .padding(0)
                        .style(button::text)
                        .on_press(Message::Show(Dialog::profile(model))),
                        me,
                        space().width(Fill),
                        tools
                    ]
                    .spacing(12)
                    .align_y(Center),
                    search,
                ]
                .spacing(12),
            )
            .padding([14, 14])
            .style(theme::header)
        };

        let unread_friends: u32 = model
            .unread
            .iter()
            .filter(|(c, _)| matches!(c, Conv::User(_)))
            .map(|(_, n)| n)
            .sum();
        let unread_groups: u32 = model
            .unread
            .iter()
            .filter(|(c, _)| matches!(c, Conv::Group(_)))
            .map(|(_, n)| n)
            .sum();
        let tabs = row![
            tab_button(tr.recent, Tab::Recent, self.tab, model.total_unread()),
            // Requests waiting for me count on the Friends tab too, as QQ's contacts tab counts its
            // new-friend notices.
            tab_button(
                tr.friends,
                Tab::Friends,
                self.tab,
                unread_friends + model.requests_needing_me() as u32,
            ),
            tab_button(tr.groups, Tab::Groups, self.tab, unread_groups),
        ]
        .width(Fill);

        let list: Element<'a, Message> = match self.tab {
            Tab::Friends => self.friends_list(ctx, model),
            Tab::Groups => self.groups_list(ctx, model),
            Tab::Recent => self.recent_list(ctx, model),
        };

        let footer = row![
            footer_button(tr.add_friend, Message::Show(Dialog::add_friend())),
            footer_button(tr.create_group, Message::Show(Dialog::create_group())),
            footer_button(tr.join_group, Message::Show(Dialog::join_group())),
        ]
        // Requests waiting come before Chat history: they are what the user has to answer.
        .push(model.has_requests().then(|| {
            footer_button_owned(
                ctx.lang
                    .requests_word(model.requests_needing_me(), !model.join_requests.is_empty()),
                Message::Show(Dialog::Requests),
            )
        }))
        .push(footer_button(tr.history, Message::OpenHistory))
        .spacing(2)
        .wrap();

        let base: Element<'a, Message> = column![
            header,
            tabs,
            iced::widget::rule::horizontal(1),
            container(list).height(Fill),
            // Over a dialog, the words go in the dialog, where the user is looking.
            if self.dialog.is_none() {
                self.refusal(ctx)
            } else {
                space().height(0).into()
            },
            iced::widget::rule::horizontal(1),
            container(footer).padding([4, 6]),
            status_bar_with(ctx, Some(Message::ReconnectNow)),
        ]
        .into();

        let base: Element<'a, Message> = mouse_area(base).on_move(Message::Pointer).into();
        let ctx = *ctx;
        match (self.dialog.as_ref(), self.menu_at) {
            (Some(dialog), Some(at)) => popup_menu(
                base,
                move || {
                    dialog
                        .view(&ctx)
                        .map(|(title, body)| (title, body.map(Message::Dialog)))
                },
                at,
            ),
            _ => match self.dialog.as_ref().and_then(|d| d.view(&ctx)) {
                None => base,
                Some((title, body)) => modal(
                    base,
                    &title,
                    column![body.map(Message::Dialog), self.refusal(&ctx)].into(),
                    300.0,
                ),
            },
        }
    }

    /// The server's last refusal in words, with × to put it away.
    fn refusal<'a>(&self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let Some(code) = &self.refused else {
            return space().height(0).into();
        };
        container(
            row![
                text(ctx.lang.refusal(code))
                    .size(12)
                    .style(theme::error_text)
                    .width(Fill),
                button(text("×").size(14))
                    .padding([0, 6])
                    .style(theme::list_item)
                    .on_press(Message::DismissRefusal),
            ]
            .spacing(6)
            .align_y(Center),
        )
        .padding([4, 14])
        .into()
    }

    /// A friend group's header in the friend list, for a right-click to find it.
    pub fn category_header_id(category: u64) -> iced::widget::Id {
        iced::widget::Id::from(format!("category-{category}"))
    }

    fn friends_list<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let tr = ctx.tr();
        // Requests waiting for me head the list with their count in red (QQ's 新朋友), as well as in
        // the footer.
        let waiting = model.requests_needing_me();
        let requests = (waiting > 0).then(|| {
            button(
                row![
                    text(ctx.lang.requests_word(0, !model.join_requests.is_empty())).size(14),
                    space().width(Fill),
                ]
                .push(badge(waiting as u32))
                .align_y(Center),
            )
            .width(Fill)
            .padding([10, 14])
            .style(theme::list_item)
            .on_press(Message::Show(Dialog::Requests))
        });
        let searching = !self.search.is_empty();
        let sections: Vec<_> = model
            .friend_sections()
            .into_iter()
            .map(|mut section| {
                let total = section.friends.len();
                if searching {
                    section.friends.retain(|f| f.matches(&self.search));
                }
                (section, total)
            })
            // A search shows only the groups with someone found, open.
            .filter(|(section, _)| !searching || !section.friends.is_empty())
            .collect();
        if sections.is_empty() || (model.friends.is_empty() && model.categories.is_empty()) {
            return match requests {
                Some(requests) => column![requests, empty(tr.no_friends)].into(),
                None => empty(tr.no_friends),
            };
        }
        let mut list = column![].push(requests);
        for (section, total) in sections {
            let open = searching || !section.collapsed;
            // As QQ: "▼ 同事 2/5", online of all; offline, who is online is not known.
            let count = if ctx.conn == Connection::Online {
                format!("{}/{total}", section.online)
            } else {
                total.to_string()
            };
            let name = section.name.unwrap_or(tr.default_category);
            let header = button(
                row![
                    // ▶/▼ rather than QQ's ▸/▾: the shipped font has these two.
                    text(if open { "▼" } else { "▶" })
                        .size(10)
                        .style(theme::muted_text),
                    user_text(format!("{name} {count}"), 13.0, theme::muted_text),
                ]
                .spacing(6)
                .align_y(Center),
            )
            .width(Fill)
            .padding([6, 14])
            .style(theme::list_item)
            .on_press(Message::FoldCategory(section.id, open));
            list =
                list.push(
                    container(mouse_area(header).on_right_press(Message::Show(
                        Dialog::category_menu(section.id, section.name.unwrap_or("")),
                    )))
                    .id(Self::category_header_id(section.id)),
                );
            if !open {
                continue;
            }
            for friend in section.friends {
                list = list.push(self.friend_row(ctx, model, friend));
            }
        }
        scrollable(list).height(Fill).into()
    }

    fn friend_row<'a>(
        &'a self,
        ctx: &Ctx<'a>,
        model: &'a Model,
        friend: &'a crate::model::Friend,
    ) -> Element<'a, Message> {
        let conv = Conv::User(friend.account.clone());
        let subtitle = ctx.presence_word(friend.presence);
        let signature = friend.profile.signature.trim();
        // As in QQ's friend list: the signature under the name, else the last message; a blocked
        // friend says so.
        let subtitle = match model.conversations.get(&conv).and_then(|c| c.last()) {
            _ if model.blocked.contains_key(&friend.account) => {
                format!("[{subtitle}] {}", ctx.tr().blocked_marker)
            }
            _ if !signature.is_empty() => format!("[{subtitle}] {}", one_line(signature)),
            Some(line) => format!(
                "[{subtitle}] {}",
                one_line(&model.preview(&conv, line, ctx.lang))
            ),
            None => format!("[{subtitle}]"),
        };
        let avatar = avatar_with_dot(
            friend.display_name(),
            &friend.account,
            ctx.user_avatar(&friend.account),
            ctx.seen(friend.presence) == Some(true),
        );
        self.entry(
            conv.clone(),
            avatar,
            friend.display_name().to_owned(),
            user_text(subtitle, 12.0, theme::muted_text),
            model,
            Some(Message::Show(Dialog::friend_menu(&friend.account))),
        )
    }

    fn groups_list<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let groups: Vec<_> = model
            .groups
            .values()
            .filter(|g| {
                self.search.is_empty()
                    || g.name.to_lowercase().contains(&self.search.to_lowercase())
                    || g.id.to_string() == self.search.trim()
            })
            .collect();
        if groups.is_empty() {
            return empty(ctx.tr().no_groups);
        }
        let mut list = column![];
        for group in groups {
            let conv = Conv::Group(group.id);
            // "李华: 山顶见", but a change or a recall already names who ("小明 发布了新的群公告").
            let subtitle = match model.conversations.get(&conv).and_then(|c| c.last()) {
                Some(line) if line.change.is_some() || line.recalled.is_some() => {
                    one_line(&model.preview(&conv, line, ctx.lang))
                }
                Some(line) => format!(
                    "{}: {}",
                    model.sender_name(Some(group.id), &line.from),
                    one_line(&model.preview(&conv, line, ctx.lang))
                ),
                None => ctx.lang.group_id(group.id),
            };
            list = list.push(self.entry(
                conv.clone(),
                avatar::view(
                    &group.name,
                    &format!("group:{}", group.id),
                    ctx.group_avatar(group.id),
                    42.0,
                ),
                group.name.clone(),
                user_text(subtitle, 12.0, theme::muted_text),
                model,
                Some(Message::Show(Dialog::group_menu(group.id))),
            ));
        }
        scrollable(list).height(Fill).into()
    }

    fn recent_list<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let recent = model.recent();
        if recent.is_empty() {
            return empty(ctx.tr().no_recent);
        }
        let offset = crate::model::local_offset_minutes();
        let now = crate::model::now_millis();
        let mut list = column![];
        for (conv, line) in recent {
            let name = model.conv_name(conv);
            if !self.search.is_empty() && !name.to_lowercase().contains(&self.search.to_lowercase())
            {
                continue;
            }
            let avatar = match conv {
                Conv::User(account) => avatar_with_dot(
                    &name,
                    account,
                    ctx.user_avatar(account),
                    model
                        .friends
                        .get(account)
                        .is_some_and(|f| ctx.seen(f.presence) == Some(true)),
                ),
                Conv::Group(id) => {
                    avatar::view(&name, &format!("group:{id}"), ctx.group_avatar(*id), 42.0)
                }
            };
            let subtitle = format!(
                "{}  {}",
                crate::model::format_time(line.time, now, offset),
                one_line(&model.preview(conv, line, ctx.lang))
            );
            let subtitle = user_text(subtitle, 12.0, theme::muted_text);
            // QQ's red "[有人@我]" stays in front of the preview until the chat is read.
            let subtitle: Element<'a, Message> = if model.mentioned(conv) {
                row![
                    text(ctx.tr().mention_me).size(12).style(theme::error_text),
                    subtitle
                ]
                .spacing(4)
                .into()
            } else {
                subtitle
            };
            list = list.push(self.entry(
                conv.clone(),
                avatar,
                name,
                subtitle,
                model,
                Some(Message::Show(match conv {
                    Conv::User(account) => Dialog::friend_menu(account),
                    Conv::Group(id) => Dialog::group_menu(*id),
                })),
            ));
        }
        scrollable(list).height(Fill).into()
    }

    /// One row: click selects, double-click opens the chat, right-click shows the row's actions.
    fn entry<'a>(
        &'a self,
        conv: Conv,
        avatar: Element<'a, Message>,
        title: String,
        subtitle: Element<'a, Message>,
        model: &Model,
        menu: Option<Message>,
    ) -> Element<'a, Message> {
        let selected = self.selected.as_ref() == Some(&conv);
        // Pinned chats are shaded at the top of Recent, as QQ's are; a muted chat's badge is grey.
        let pinned = self.tab == Tab::Recent && model.is_pinned(&conv);
        let unread = model.unread(&conv);
        let badge = if model.is_muted(&conv) {
            badge_muted(unread)
        } else {
            badge(unread)
        };
        let content = row![
            avatar,
            column![user_text(title, 15.0, text::default), subtitle]
                .spacing(3)
                .width(Fill)
                .clip(true),
        ]
        .push(badge)
        .spacing(10)
        .align_y(Center);
        let row =
            container(content)
                .padding([8, 14])
                .width(Fill)
                .style(move |theme: &iced::Theme| {
                    if selected {
                        list_selected(theme)
                    } else if pinned {
                        theme::pinned_row(theme)
                    } else {
                        container::Style::default()
                    }
                });
        let mut area = mouse_area(row)
            .on_press(Message::Select(conv.clone()))
            .on_double_click(Message::Open(conv))
            .interaction(mouse::Interaction::Pointer);
        if let Some(menu) = menu {
            area = area.on_right_press(menu);
        }
        area.into()
    }
}

/// A friend's or group's menu as a pop-up at the pointer over `base`.
fn popup_menu<'a>(
    base: Element<'a, Message>,
    menu: impl Fn() -> Option<(String, Element<'a, Message>)> + 'a,
    at: iced::Point,
) -> Element<'a, Message> {
    // About the size of the longest menu (a friend's, with Move to group…): a shorter one opening
    // upwards still ends at the pointer.
    const MOST: iced::Size = iced::Size::new(220.0, 360.0);
    let card = move || {
        let Some((title, body)) = menu() else {
            return space().into();
        };
        container(
            column![
                container(user_text(title, 13.0, theme::muted_text)).padding([2, 6]),
                body
            ]
            .spacing(4),
        )
        .padding(6)
        .width(MOST.width)
        .style(theme::card)
        .into()
    };
    iced::widget::stack![base, popup_at(at, MOST, Message::CloseMenu, card)].into()
}

fn header_button<'a>(label: &'a str, message: Message) -> Element<'a, Message> {
    button(text(label).size(18).align_x(Center).width(Fill))
        .width(32)
        .padding([2, 0])
        .style(theme::header_button)
        .on_press(message)
        .into()
}

fn footer_button<'a>(label: &'a str, message: Message) -> Element<'a, Message> {
    button(text(label).size(12))
        .padding([4, 8])
        .style(theme::link)
        .on_press(message)
        .into()
}

fn footer_button_owned<'a>(label: String, message: Message) -> Element<'a, Message> {
    button(text(label).size(12))
        .padding([4, 8])
        .style(theme::link)
        .on_press(message)
        .into()
}

fn tab_button<'a>(label: &'a str, tab: Tab, current: Tab, unread: u32) -> Element<'a, Message> {
    let active = tab == current;
    let content = row![text(label).size(14)]
        .push(badge(unread))
        .spacing(4)
        .align_y(Center);
    let underline = container(space().height(2))
        .width(Fill)
        .style(move |theme: &iced::Theme| container::Style {
            background: active.then(|| theme.palette().primary.into()),
            ..container::Style::default()
        });
    column![
        button(container(content).center_x(Fill))
            .width(Fill)
            .padding([8, 0])
            .style(theme::tab(active))
            .on_press(Message::TabSelected(tab)),
        underline,
    ]
    .width(Fill)
    .into()
}

fn list_selected(theme: &iced::Theme) -> container::Style {
    let bg = if theme.extended_palette().is_dark {
        iced::color!(0x2e3340)
    } else {
        iced::color!(0xe6f4ff)
    };
    container::Style {
        background: Some(bg.into()),
        ..container::Style::default()
    }
}

fn empty<'a>(what: &'a str) -> Element<'a, Message> {
    container(text(what).size(13).style(theme::muted_text).align_x(Center))
        .center(Fill)
        .padding(24)
        .into()
}

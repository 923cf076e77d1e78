//! The main window: QQ's tall friend-list window.
//!
//! Top: my avatar, nickname and state on the blue header, with the search box. Then tabs for friends,
//! groups and recent chats; lists with avatars, online marks and live unread badges. Double-clicking a
//! row opens its chat; right-clicking offers the row's actions. Dialogs (add friend, requests — those to
//! me, and mine still waiting or declined —, remark, delete, groups, settings) float over the list.

use iced::widget::{
    button, checkbox, column, container, image, mouse_area, pick_list, row, scrollable, space,
    text, text_input,
};
use iced::{Center, Element, Fill, Shrink, mouse};
use ququ_protocol::{Conv, ErrorCode, JoinPolicy};

use super::{Ctx, badge, dialog, status_bar};
use crate::avatar;
use crate::i18n::Lang;
use crate::model::{Sent, Session};
use crate::net::Command;
use crate::theme::{self, ThemePref};

pub const SEARCH_INPUT: &str = "main-search";
/// The header's settings button (an icon, no text to find it by in the simulator tests).
pub const SETTINGS_BUTTON: &str = "settings-button";

/// The gear on the settings button. An icon shipped with the app, not the ⚙ character: U+2699 is not
/// in the shipped font, and a fresh Windows (as under Wine) has no fallback font that draws it, so the
/// button was blank there. Rendered from assets/icons/settings.svg by make-icons.sh.
static SETTINGS_ICON: std::sync::LazyLock<image::Handle> = std::sync::LazyLock::new(|| {
    image::Handle::from_bytes(&include_bytes!("../../../assets/icons/settings.png")[..])
});
pub const ADD_FRIEND_QUERY: &str = "add-friend-query";
pub const GROUP_NAME_INPUT: &str = "group-name";
pub const GROUP_ID_INPUT: &str = "group-id";
pub const REMARK_INPUT: &str = "remark";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Friends,
    Groups,
    Recent,
}

/// The dialog over the list, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    AddFriend {
        query: String,
        note: String,
        sent_to: Option<String>,
    },
    Requests,
    /// Right-click on a friend.
    FriendMenu {
        account: String,
    },
    Remark {
        account: String,
        remark: String,
    },
    ConfirmDelete {
        account: String,
    },
    CreateGroup {
        name: String,
    },
    JoinGroup {
        id: String,
        invalid: bool,
        /// The group asked to join, until the server answers.
        waiting: Option<u64>,
        /// The server's refusal.
        refused: Option<ErrorCode>,
    },
    GroupMenu {
        group: u64,
    },
    /// Pick friends to bring into a group.
    Invite {
        group: u64,
        /// Asked this session; a refusal, with whom it was about, shows below the list.
        invited: Vec<String>,
        refused: Option<(String, ErrorCode)>,
    },
    ConfirmLeave {
        group: u64,
    },
    Settings,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub tab: Tab,
    pub search: String,
    pub selected: Option<Conv>,
    pub dialog: Option<Dialog>,
    /// A problem to show in the settings dialog (an avatar image that could not be read).
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    TabSelected(Tab),
    SearchChanged(String),
    Select(Conv),
    Open(Conv),
    Show(Dialog),
    CloseDialog,
    QueryChanged(String),
    NoteChanged(String),
    Find,
    SendRequest(String),
    Accept(String),
    Reject(String),
    /// Clears my declined request to this account from the requests dialog.
    Dismiss(String),
    RemarkChanged(String),
    SaveRemark,
    DeleteFriend,
    GroupNameChanged(String),
    CreateGroup,
    GroupIdChanged(String),
    JoinGroup,
    LeaveGroup,
    /// The owner's "anyone with the number can join" switch.
    SetPolicy(u64, bool),
    Invite(u64, String),
    Language(LangChoice),
    Theme(ThemeChoice),
    PickAvatar,
    ResetAvatar,
    Logout,
    About,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    OpenChat(Conv),
    Net(Command),
    SetLang(Option<Lang>),
    SetTheme(ThemePref),
    PickAvatar,
    ResetAvatar,
    OpenAbout,
    DismissDeclined(String),
}

/// A language choice in settings: a language, or "follow system".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LangChoice(pub Option<Lang>, pub &'static str);

impl std::fmt::Display for LangChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
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
        match message {
            Message::TabSelected(tab) => self.tab = tab,
            Message::SearchChanged(s) => self.search = s,
            Message::Select(conv) => self.selected = Some(conv),
            Message::Open(conv) => {
                self.selected = Some(conv.clone());
                return Some(Event::OpenChat(conv));
            }
            Message::Show(dialog) => {
                // The group menu shows who may join, the invitation list who is in already: ask the
                // server, which knows.
                let ask = match &dialog {
                    Dialog::GroupMenu { group } => Some(Event::Net(Command::GroupPolicy {
                        group: *group,
                        policy: None,
                    })),
                    Dialog::Invite { group, .. } => {
                        Some(Event::Net(Command::ListMembers { group: *group }))
                    }
                    _ => None,
                };
                self.dialog = Some(dialog);
                return ask;
            }
            Message::CloseDialog => {
                self.dialog = None;
                self.notice = None;
            }
            Message::QueryChanged(q) => {
                if let Some(Dialog::AddFriend { query, .. }) = &mut self.dialog {
                    *query = q;
                }
            }
            Message::NoteChanged(n) => {
                if let Some(Dialog::AddFriend { note, .. }) = &mut self.dialog {
                    *note = n;
                }
            }
            Message::Find => {
                if let Some(Dialog::AddFriend { query, .. }) = &self.dialog {
                    let query = query.trim();
                    if !query.is_empty() {
                        return Some(Event::Net(Command::FindUser {
                            query: query.to_owned(),
                        }));
                    }
                }
            }
            Message::SendRequest(account) => {
                if let Some(Dialog::AddFriend { note, sent_to, .. }) = &mut self.dialog {
                    *sent_to = Some(account.clone());
                    return Some(Event::Net(Command::AddFriend {
                        account,
                        note: note.trim().to_owned(),
                    }));
                }
            }
            Message::Accept(account) => return Some(Event::Net(Command::AcceptFriend { account })),
            Message::Reject(account) => return Some(Event::Net(Command::RejectFriend { account })),
            Message::Dismiss(account) => return Some(Event::DismissDeclined(account)),
            Message::RemarkChanged(r) => {
                if let Some(Dialog::Remark { remark, .. }) = &mut self.dialog {
                    *remark = r;
                }
            }
            Message::SaveRemark => {
                if let Some(Dialog::Remark { account, remark }) = self.dialog.take() {
                    return Some(Event::Net(Command::SetRemark {
                        account,
                        remark: remark.trim().to_owned(),
                    }));
                }
            }
            Message::DeleteFriend => {
                if let Some(Dialog::ConfirmDelete { account }) = self.dialog.take() {
                    return Some(Event::Net(Command::DeleteFriend { account }));
                }
            }
            Message::GroupNameChanged(n) => {
                if let Some(Dialog::CreateGroup { name }) = &mut self.dialog {
                    *name = n;
                }
            }
            Message::CreateGroup => {
                if let Some(Dialog::CreateGroup { name }) = &self.dialog {
                    let name = name.trim().to_owned();
                    if !name.is_empty() {
                        self.dialog = None;
                        self.tab = Tab::Groups;
                        return Some(Event::Net(Command::CreateGroup { name }));
                    }
                }
            }
            Message::GroupIdChanged(text) => {
                if let Some(Dialog::JoinGroup {
                    id,
                    invalid,
                    refused,
                    ..
                }) = &mut self.dialog
                {
                    *id = text;
                    *invalid = false;
                    *refused = None;
                }
            }
            Message::JoinGroup => {
                if let Some(Dialog::JoinGroup {
                    id,
                    invalid,
                    waiting,
                    refused,
                }) = &mut self.dialog
                {
                    // The dialog stays until the server answers: joined (it closes) or refused (it says why).
                    match id.trim().parse::<u64>() {
                        Ok(group) => {
                            *waiting = Some(group);
                            *refused = None;
                            return Some(Event::Net(Command::JoinGroup { group }));
                        }
                        Err(_) => *invalid = true,
                    }
                }
            }
            Message::SetPolicy(group, open) => {
                let policy = if open {
                    JoinPolicy::Open
                } else {
                    JoinPolicy::Invite
                };
                return Some(Event::Net(Command::GroupPolicy {
                    group,
                    policy: Some(policy),
                }));
            }
            Message::Invite(group, account) => {
                if let Some(Dialog::Invite {
                    invited, refused, ..
                }) = &mut self.dialog
                {
                    invited.push(account.clone());
                    *refused = None;
                }
                return Some(Event::Net(Command::Invite { group, account }));
            }
            Message::LeaveGroup => {
                if let Some(Dialog::ConfirmLeave { group }) = self.dialog.take() {
                    return Some(Event::Net(Command::LeaveGroup { group }));
                }
            }
            Message::Language(choice) => return Some(Event::SetLang(choice.0)),
            Message::Theme(choice) => return Some(Event::SetTheme(choice.0)),
            Message::PickAvatar => return Some(Event::PickAvatar),
            Message::ResetAvatar => return Some(Event::ResetAvatar),
            Message::Logout => {
                self.dialog = None;
                return Some(Event::Net(Command::Logout));
            }
            Message::About => {
                self.dialog = None;
                return Some(Event::OpenAbout);
            }
        }
        None
    }

    pub fn view<'a>(
        &'a self,
        ctx: &Ctx<'a>,
        settings: (Option<Lang>, ThemePref),
    ) -> Element<'a, Message> {
        let Some(session) = ctx.session else {
            return status_bar(ctx);
        };
        let tr = ctx.tr();

        let header = {
            let me = column![
                text(session.my_name().to_owned()).size(17),
                row![
                    super::state_dot(ctx.conn),
                    text(super::connection_label(ctx)).size(12)
                ]
                .spacing(5)
                .align_y(Center),
            ]
            .spacing(3);
            let tools = row![
                header_button(
                    "+",
                    Message::Show(Dialog::AddFriend {
                        query: String::new(),
                        note: String::new(),
                        sent_to: None
                    })
                ),
                container(
                    button(
                        container(image(SETTINGS_ICON.clone()).width(18).height(18))
                            .center_x(Fill)
                            .padding([3, 0]),
                    )
                    .width(32)
                    .padding([2, 0])
                    .style(theme::header_button)
                    .on_press(Message::Show(Dialog::Settings)),
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
                        avatar::view(session.my_name(), &session.account, ctx.my_avatar, 52.0),
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

        let unread_friends: u32 = session
            .unread
            .iter()
            .filter(|(c, _)| matches!(c, Conv::User(_)))
            .map(|(_, n)| n)
            .sum();
        let unread_groups: u32 = session
            .unread
            .iter()
            .filter(|(c, _)| matches!(c, Conv::Group(_)))
            .map(|(_, n)| n)
            .sum();
        let tabs = row![
            tab_button(tr.recent, Tab::Recent, self.tab, session.total_unread()),
            tab_button(tr.friends, Tab::Friends, self.tab, unread_friends),
            tab_button(tr.groups, Tab::Groups, self.tab, unread_groups),
        ]
        .width(Fill);

        let list: Element<'a, Message> = match self.tab {
            Tab::Friends => self.friends_list(ctx, session),
            Tab::Groups => self.groups_list(ctx, session),
            Tab::Recent => self.recent_list(ctx, session),
        };

        let footer = row![
            footer_button(
                tr.add_friend,
                Message::Show(Dialog::AddFriend {
                    query: String::new(),
                    note: String::new(),
                    sent_to: None
                })
            ),
            footer_button(
                tr.create_group,
                Message::Show(Dialog::CreateGroup {
                    name: String::new()
                })
            ),
            footer_button(
                tr.join_group,
                Message::Show(Dialog::JoinGroup {
                    id: String::new(),
                    invalid: false,
                    waiting: None,
                    refused: None,
                })
            ),
        ]
        .push(session.has_requests().then(|| {
            footer_button_owned(
                ctx.lang.requests_pending(session.requests_needing_me()),
                Message::Show(Dialog::Requests),
            )
        }))
        .spacing(2)
        .wrap();

        let base: Element<'a, Message> = column![
            header,
            tabs,
            iced::widget::rule::horizontal(1),
            container(list).height(Fill),
            iced::widget::rule::horizontal(1),
            container(footer).padding([4, 6]),
            status_bar(ctx),
        ]
        .into();

        match &self.dialog {
            None => base,
            Some(d) => self.dialog_view(d, base, ctx, session, settings),
        }
    }

    fn friends_list<'a>(&'a self, ctx: &Ctx<'a>, session: &'a Session) -> Element<'a, Message> {
        let tr = ctx.tr();
        let friends: Vec<_> = session
            .sorted_friends()
            .into_iter()
            .filter(|f| self.search.is_empty() || f.matches(&self.search))
            .collect();
        if friends.is_empty() {
            return empty(tr.no_friends);
        }
        let online = session
            .friends
            .values()
            .filter(|f| f.presence.is_online())
            .count();
        let mut list = column![
            container(
                text(ctx.lang.friend_count(online, session.friends.len()))
                    .size(12)
                    .style(theme::muted_text)
            )
            .padding([6, 14])
        ];
        for friend in friends {
            let conv = Conv::User(friend.account.clone());
            let subtitle = if friend.presence.is_online() {
                tr.online
            } else {
                tr.offline
            };
            let subtitle = match session.conversations.get(&conv).and_then(|c| c.last()) {
                Some(line) => format!("[{subtitle}] {}", one_line(&line.preview(tr.file_word))),
                None => format!("[{subtitle}]"),
            };
            let avatar = avatar_with_dot(
                friend.display_name(),
                &friend.account,
                friend.presence.is_online(),
            );
            list = list.push(self.entry(
                conv.clone(),
                avatar,
                friend.display_name().to_owned(),
                subtitle,
                session.unread(&conv),
                Some(Message::Show(Dialog::FriendMenu {
                    account: friend.account.clone(),
                })),
            ));
        }
        scrollable(list).height(Fill).into()
    }

    fn groups_list<'a>(&'a self, ctx: &Ctx<'a>, session: &'a Session) -> Element<'a, Message> {
        let groups: Vec<_> = session
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
            let subtitle = match session.conversations.get(&conv).and_then(|c| c.last()) {
                Some(line) => format!(
                    "{}: {}",
                    session.sender_name(Some(group.id), &line.from),
                    one_line(&line.preview(ctx.tr().file_word))
                ),
                None => ctx.lang.group_id(group.id),
            };
            list = list.push(self.entry(
                conv.clone(),
                avatar::view(&group.name, &format!("group:{}", group.id), None, 42.0),
                group.name.clone(),
                subtitle,
                session.unread(&conv),
                Some(Message::Show(Dialog::GroupMenu { group: group.id })),
            ));
        }
        scrollable(list).height(Fill).into()
    }

    fn recent_list<'a>(&'a self, ctx: &Ctx<'a>, session: &'a Session) -> Element<'a, Message> {
        let recent = session.recent();
        if recent.is_empty() {
            return empty(ctx.tr().no_recent);
        }
        let offset = crate::model::local_offset_minutes();
        let now = crate::model::now_millis();
        let mut list = column![];
        for (conv, line) in recent {
            let name = session.conv_name(conv);
            if !self.search.is_empty() && !name.to_lowercase().contains(&self.search.to_lowercase())
            {
                continue;
            }
            let avatar = match conv {
                Conv::User(account) => avatar_with_dot(
                    &name,
                    account,
                    session
                        .friends
                        .get(account)
                        .is_some_and(|f| f.presence.is_online()),
                ),
                Conv::Group(id) => avatar::view(&name, &format!("group:{id}"), None, 42.0),
            };
            let subtitle = format!(
                "{}  {}",
                crate::model::format_time(line.time, now, offset),
                one_line(&line.preview(ctx.tr().file_word))
            );
            list = list.push(self.entry(
                conv.clone(),
                avatar,
                name,
                subtitle,
                session.unread(conv),
                None,
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
        subtitle: String,
        unread: u32,
        menu: Option<Message>,
    ) -> Element<'a, Message> {
        let selected = self.selected.as_ref() == Some(&conv);
        let content = row![
            avatar,
            column![
                text(title).size(15).wrapping(text::Wrapping::None),
                text(subtitle)
                    .size(12)
                    .style(theme::muted_text)
                    .wrapping(text::Wrapping::None)
            ]
            .spacing(3)
            .width(Fill)
            .clip(true),
        ]
        .push(badge(unread))
        .spacing(10)
        .align_y(Center);
        let row =
            container(content)
                .padding([8, 14])
                .width(Fill)
                .style(move |theme: &iced::Theme| {
                    if selected {
                        list_selected(theme)
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

    fn dialog_view<'a>(
        &'a self,
        d: &'a Dialog,
        base: Element<'a, Message>,
        ctx: &Ctx<'a>,
        session: &'a Session,
        (lang_pref, theme_pref): (Option<Lang>, ThemePref),
    ) -> Element<'a, Message> {
        let tr = ctx.tr();
        let close = || {
            button(text(tr.close).size(13))
                .style(theme::secondary_button)
                .on_press(Message::CloseDialog)
        };
        let cancel = || {
            button(text(tr.cancel).size(13))
                .style(theme::secondary_button)
                .on_press(Message::CloseDialog)
        };
        let actions =
            |primary: Element<'a, Message>| row![space().width(Fill), cancel(), primary].spacing(8);
        let (title, body): (String, Element<'a, Message>) = match d {
            Dialog::AddFriend {
                query,
                note,
                sent_to,
            } => {
                let mut results = column![].spacing(6);
                match &session.found {
                    Some(found) if found.is_empty() => {
                        results =
                            results.push(text(tr.no_results).size(13).style(theme::muted_text))
                    }
                    Some(found) => {
                        for user in found.iter().filter(|u| u.account != session.account) {
                            let action: Element<'a, Message> =
                                if session.friends.contains_key(&user.account) {
                                    text(tr.already_friend)
                                        .size(12)
                                        .style(theme::muted_text)
                                        .into()
                                } else if sent_to.as_deref() == Some(user.account.as_str())
                                    || session
                                        .sent
                                        .get(&user.account)
                                        .is_some_and(|r| r.state == Sent::Waiting)
                                {
                                    text(tr.request_sent)
                                        .size(12)
                                        .style(theme::muted_text)
                                        .into()
                                } else {
                                    button(text(tr.send_request).size(12))
                                        .style(theme::primary_button)
                                        .on_press(Message::SendRequest(user.account.clone()))
                                        .into()
                                };
                            let name = if user.nickname.is_empty() || user.nickname == user.account
                            {
                                user.account.clone()
                            } else {
                                format!("{} ({})", user.nickname, user.account)
                            };
                            results = results.push(
                                row![
                                    avatar_with_dot(
                                        &user.nickname,
                                        &user.account,
                                        user.presence.is_online()
                                    ),
                                    text(name).size(14).width(Fill),
                                    action
                                ]
                                .spacing(8)
                                .align_y(Center),
                            );
                        }
                    }
                    None => {}
                }
                (
                    tr.add_friend.to_owned(),
                    column![
                        row![
                            text_input(tr.find_user_hint, query)
                                .id(ADD_FRIEND_QUERY)
                                .on_input(Message::QueryChanged)
                                .on_submit(Message::Find)
                                .padding(8)
                                .style(theme::field),
                            button(text(tr.find).size(13))
                                .padding([8, 12])
                                .style(theme::primary_button)
                                .on_press(Message::Find),
                        ]
                        .spacing(6),
                        text_input(tr.note_hint, note)
                            .on_input(Message::NoteChanged)
                            .padding(8)
                            .style(theme::field),
                        scrollable(results).height(Shrink),
                        row![space().width(Fill), close()],
                    ]
                    .spacing(10)
                    .into(),
                )
            }
            Dialog::Requests => {
                let mut list = column![].spacing(14);
                for request in &session.requests {
                    let mut info = column![
                        person_heading(&request.nickname, &request.from),
                        text(tr.wants_to_be_friends)
                            .size(12)
                            .style(theme::muted_text),
                    ]
                    .spacing(2)
                    .width(Fill);
                    if !request.note.is_empty() {
                        info = info.push(text(request.note.clone()).size(13));
                    }
                    list = list.push(
                        column![
                            row![
                                avatar::view(&request.nickname, &request.from, None, 40.0),
                                info
                            ]
                            .spacing(10),
                            row![
                                space().width(Fill),
                                button(text(tr.reject).size(12))
                                    .style(theme::secondary_button)
                                    .on_press(Message::Reject(request.from.clone())),
                                button(text(tr.accept).size(12))
                                    .style(theme::primary_button)
                                    .on_press(Message::Accept(request.from.clone())),
                            ]
                            .spacing(8),
                        ]
                        .spacing(6),
                    );
                }
                if !session.sent.is_empty() {
                    if !session.requests.is_empty() {
                        list = list.push(iced::widget::rule::horizontal(1));
                    }
                    list = list.push(text(tr.sent_requests).size(13).style(theme::muted_text));
                }
                for (account, sent) in &session.sent {
                    let status = match sent.state {
                        Sent::Waiting => text(tr.waiting_for_answer)
                            .size(12)
                            .style(theme::muted_text),
                        Sent::Declined => {
                            text(tr.declined_request).size(12).style(theme::error_text)
                        }
                    };
                    let info = column![person_heading(&sent.nickname, account), status]
                        .spacing(2)
                        .width(Fill);
                    let dismiss = (sent.state == Sent::Declined).then(|| {
                        button(text(tr.dismiss).size(12))
                            .style(theme::secondary_button)
                            .on_press(Message::Dismiss(account.clone()))
                    });
                    list = list.push(
                        row![avatar::view(&sent.nickname, account, None, 40.0), info]
                            .push(dismiss)
                            .spacing(10)
                            .align_y(Center),
                    );
                }
                (
                    ctx.lang.requests_pending(session.requests_needing_me()),
                    column![
                        scrollable(list).height(Shrink),
                        iced::widget::rule::horizontal(1),
                        row![space().width(Fill), close()]
                    ]
                    .spacing(12)
                    .into(),
                )
            }
            Dialog::FriendMenu { account } => {
                let name = session.conv_name(&Conv::User(account.clone()));
                let item = |label: &'static str, message: Message| {
                    button(text(label).size(14))
                        .width(Fill)
                        .padding([8, 10])
                        .style(theme::list_item)
                        .on_press(message)
                };
                (
                    name,
                    column![
                        item(tr.open_chat, Message::Open(Conv::User(account.clone()))),
                        item(
                            tr.set_remark,
                            Message::Show(Dialog::Remark {
                                account: account.clone(),
                                remark: session
                                    .friends
                                    .get(account)
                                    .map(|f| f.remark.clone())
                                    .unwrap_or_default()
                            })
                        ),
                        item(
                            tr.delete_friend,
                            Message::Show(Dialog::ConfirmDelete {
                                account: account.clone()
                            })
                        ),
                        row![space().width(Fill), close()],
                    ]
                    .spacing(2)
                    .into(),
                )
            }
            Dialog::Remark { remark, .. } => (
                tr.set_remark.to_owned(),
                column![
                    text_input(tr.remark_hint, remark)
                        .id(REMARK_INPUT)
                        .on_input(Message::RemarkChanged)
                        .on_submit(Message::SaveRemark)
                        .padding(8)
                        .style(theme::field),
                    actions(
                        button(text(tr.save).size(13))
                            .style(theme::primary_button)
                            .on_press(Message::SaveRemark)
                            .into()
                    ),
                ]
                .spacing(12)
                .into(),
            ),
            Dialog::ConfirmDelete { account } => {
                (
                    tr.delete_friend.to_owned(),
                    column![
                        text(ctx.lang.delete_friend_confirm(
                            &session.conv_name(&Conv::User(account.clone()))
                        ))
                        .size(14),
                        actions(
                            button(text(tr.delete).size(13))
                                .style(theme::danger_button)
                                .on_press(Message::DeleteFriend)
                                .into()
                        ),
                    ]
                    .spacing(12)
                    .into(),
                )
            }
            Dialog::CreateGroup { name } => (
                tr.create_group.to_owned(),
                column![
                    text_input(tr.group_name_hint, name)
                        .id(GROUP_NAME_INPUT)
                        .on_input(Message::GroupNameChanged)
                        .on_submit(Message::CreateGroup)
                        .padding(8)
                        .style(theme::field),
                    actions(
                        button(text(tr.create).size(13))
                            .style(theme::primary_button)
                            .on_press(Message::CreateGroup)
                            .into()
                    ),
                ]
                .spacing(12)
                .into(),
            ),
            Dialog::JoinGroup {
                id,
                invalid,
                waiting,
                refused,
            } => {
                let problem = if *invalid {
                    Some(tr.no_such_group.to_owned())
                } else {
                    refused.as_ref().map(|code| ctx.lang.group_refusal(code))
                };
                (
                    tr.join_group.to_owned(),
                    column![
                        text_input(tr.group_id_hint, id)
                            .id(GROUP_ID_INPUT)
                            .on_input(Message::GroupIdChanged)
                            .on_submit(Message::JoinGroup)
                            .padding(8)
                            .style(theme::field),
                    ]
                    .push(problem.map(|p| text(p).size(12).style(theme::error_text)))
                    .push(actions(
                        button(text(tr.join).size(13))
                            .style(theme::primary_button)
                            .on_press_maybe(waiting.is_none().then_some(Message::JoinGroup))
                            .into(),
                    ))
                    .spacing(12)
                    .into(),
                )
            }
            Dialog::Invite {
                group,
                invited,
                refused,
            } => {
                let members = session.members.get(group);
                let mut list = column![].spacing(8);
                for account in session.friends.keys() {
                    let name = session.conv_name(&Conv::User(account.clone()));
                    let in_group = members.is_some_and(|m| m.iter().any(|m| &m.account == account));
                    let state: Element<'a, Message> = if in_group {
                        text(tr.in_group).size(12).style(theme::muted_text).into()
                    } else if invited.contains(account) {
                        text(tr.invited).size(12).style(theme::muted_text).into()
                    } else {
                        button(text(tr.invite).size(12))
                            .style(theme::primary_button)
                            .on_press(Message::Invite(*group, account.clone()))
                            .into()
                    };
                    list = list.push(
                        row![
                            avatar::view(&name, account, None, 32.0),
                            container(person_heading(&name, account)).width(Fill),
                            state
                        ]
                        .spacing(10)
                        .align_y(Center),
                    );
                }
                let problem = refused.as_ref().map(|(account, code)| {
                    let who = session.conv_name(&Conv::User(account.clone()));
                    text(format!("{who}: {}", ctx.lang.group_refusal(code)))
                        .size(12)
                        .style(theme::error_text)
                });
                let empty = session.friends.is_empty().then(|| {
                    text(tr.no_friends_to_invite)
                        .size(13)
                        .style(theme::muted_text)
                });
                (
                    tr.invite_friends.trim_end_matches('…').to_owned(),
                    column![scrollable(list).height(Shrink)]
                        .push(empty)
                        .push(problem)
                        .push(row![space().width(Fill), close()])
                        .spacing(12)
                        .into(),
                )
            }
            Dialog::GroupMenu { group } => {
                let name = session.conv_name(&Conv::Group(*group));
                let item = |label: &'static str, message: Message| {
                    button(text(label).size(14))
                        .width(Fill)
                        .padding([8, 10])
                        .style(theme::list_item)
                        .on_press(message)
                };
                let owner = session
                    .groups
                    .get(group)
                    .is_some_and(|g| g.owner == session.account);
                // Only the owner changes who may join; until the server has said, the switch waits.
                let policy = owner.then(|| {
                    let open = session.group_policies.get(group).copied();
                    container(
                        checkbox(open == Some(JoinPolicy::Open))
                            .label(tr.anyone_can_join)
                            .size(16)
                            .text_size(13)
                            .on_toggle_maybe(
                                open.is_some()
                                    .then_some(move |on| Message::SetPolicy(*group, on)),
                            ),
                    )
                    .padding([8, 10])
                });
                (
                    name,
                    column![
                        text(ctx.lang.group_id(*group))
                            .size(12)
                            .style(theme::muted_text),
                        item(tr.open_chat, Message::Open(Conv::Group(*group))),
                        item(
                            tr.invite_friends,
                            Message::Show(Dialog::Invite {
                                group: *group,
                                invited: Vec::new(),
                                refused: None,
                            })
                        ),
                    ]
                    .push(policy)
                    .push(item(
                        tr.leave_group,
                        Message::Show(Dialog::ConfirmLeave { group: *group }),
                    ))
                    .push(row![space().width(Fill), close()])
                    .spacing(2)
                    .into(),
                )
            }
            Dialog::ConfirmLeave { group } => (
                tr.leave_group.to_owned(),
                column![
                    text(
                        ctx.lang
                            .leave_group_confirm(&session.conv_name(&Conv::Group(*group)))
                    )
                    .size(14),
                    actions(
                        button(text(tr.leave).size(13))
                            .style(theme::danger_button)
                            .on_press(Message::LeaveGroup)
                            .into()
                    ),
                ]
                .spacing(12)
                .into(),
            ),
            Dialog::Settings => {
                let langs: Vec<LangChoice> = std::iter::once(LangChoice(None, tr.theme_system))
                    .chain(
                        Lang::ALL
                            .iter()
                            .map(|l| LangChoice(Some(*l), l.native_name())),
                    )
                    .collect();
                let current_lang = langs.iter().copied().find(|c| c.0 == lang_pref);
                let themes = vec![
                    ThemeChoice(ThemePref::System, tr.theme_system),
                    ThemeChoice(ThemePref::Light, tr.theme_light),
                    ThemeChoice(ThemePref::Dark, tr.theme_dark),
                ];
                let current_theme = themes.iter().copied().find(|c| c.0 == theme_pref);
                (
                    tr.settings.to_owned(),
                    column![
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
                        row![
                            avatar::view(session.my_name(), &session.account, ctx.my_avatar, 40.0),
                            button(text(tr.change_avatar).size(13))
                                .style(theme::secondary_button)
                                .on_press(Message::PickAvatar),
                            button(text(tr.reset_avatar).size(13))
                                .style(theme::link)
                                .on_press(Message::ResetAvatar),
                        ]
                        .spacing(8)
                        .align_y(Center),
                    ]
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
                            close()
                        ]
                        .spacing(4)
                        .align_y(Center),
                    )
                    .spacing(12)
                    .into(),
                )
            }
        };
        dialog(base, &title, body, 300.0)
    }
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

fn avatar_with_dot<'a>(name: &str, account: &str, online: bool) -> Element<'a, Message> {
    let dot = container(space())
        .width(11)
        .height(11)
        .style(theme::presence_dot(online));
    iced::widget::stack![
        avatar::view(name, account, None, 42.0),
        container(dot)
            .width(44)
            .height(44)
            .align_right(44)
            .align_bottom(44),
    ]
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

/// The first line of a message, for one-line previews.
fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    let mut chars = first.chars();
    let short: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() || text.lines().nth(1).is_some() {
        format!("{short}…")
    } else {
        short
    }
}

/// A person in a requests list: their nickname, and the account beside it when the two differ (the
/// account alone if they have no nickname).
fn person_heading<'a>(nickname: &str, account: &str) -> Element<'a, Message> {
    let name = if nickname.is_empty() {
        account
    } else {
        nickname
    };
    row![text(name.to_owned()).size(14)]
        .push((name != account).then(|| text(account.to_owned()).size(12).style(theme::muted_text)))
        .spacing(6)
        .align_y(Center)
        .into()
}

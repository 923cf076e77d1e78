//! The dialogs that float over the contact list, one module each with the same shape as a window:
//! `State`, `Message`, `update` (returning an [`Event`] when the contact list or the app must act) and
//! `view` (a title and a body, from the dialog's state and the read-only [`Ctx`]). [`Dialog`] holds the
//! open one and lifts each dialog's messages with `.map`, as iced's `todos` example does.
//!
//! # Layout
//! - this file — [`Dialog`], [`Message`], [`Event`], and the pieces every dialog draws with: [`form`]
//!   (fields, a problem in words, Cancel and the action), [`menu_item`], [`close_row`].
//! - `add_friend`, `requests`, `friend_menu`, `remark`, `confirm` (delete a friend, leave a group),
//!   `create_group`, `join_group`, `group_menu`, `invite`, `settings`, `password` (change it),
//!   `blocked` (the block list), `profile` (my nickname, signature, gender, region).
//! - friend groups (好友分组): `move_friend` (a friend to another group), `category_menu` (a group
//!   header's menu), `category_name` (add or rename one); deleting one asks in `confirm`.

pub mod add_friend;
pub mod blocked;
pub mod category_menu;
pub mod category_name;
pub mod confirm;
pub mod create_group;
pub mod friend_menu;
pub mod group_menu;
pub mod invite;
pub mod join_group;
pub mod move_friend;
pub mod password;
pub mod profile;
pub mod remark;
pub mod requests;
pub mod settings;

use iced::widget::{Column, button, row, space, text, text_input};
use iced::{Element, Fill};
use ququ_protocol::Conv;

use crate::i18n::{Lang, Tr};
use crate::model::Change;
use crate::net::Command;
use crate::theme::{self, ThemePref};
use crate::widget::Ctx;

/// The dialog over the contact list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    AddFriend(add_friend::State),
    Requests,
    /// Right-click on a friend.
    FriendMenu(friend_menu::State),
    Remark(remark::State),
    Confirm(confirm::State),
    CreateGroup(create_group::State),
    JoinGroup(join_group::State),
    /// Right-click on a group.
    GroupMenu(group_menu::State),
    /// Pick friends to bring into a group.
    Invite(invite::State),
    Settings(settings::State),
    Password(password::State),
    /// The block list (黑名单).
    Blocked,
    /// My profile (个人资料).
    Profile(profile::State),
    /// A friend to another friend group (from their menu).
    MoveFriend(move_friend::State),
    /// Right-click on a friend group's header.
    CategoryMenu(category_menu::State),
    /// Add a friend group or rename one.
    CategoryName(category_name::State),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    AddFriend(add_friend::Message),
    Requests(requests::Message),
    FriendMenu(friend_menu::Message),
    Remark(remark::Message),
    Confirm(confirm::Message),
    CreateGroup(create_group::Message),
    JoinGroup(join_group::Message),
    GroupMenu(group_menu::Message),
    Invite(invite::Message),
    Settings(settings::Message),
    Password(password::Message),
    Blocked(blocked::Message),
    Profile(profile::Message),
    MoveFriend(move_friend::Message),
    CategoryMenu(category_menu::Message),
    CategoryName(category_name::Message),
}

/// What a dialog asks of the contact list, or through it of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Close the dialog.
    Close,
    /// Show another dialog in its place (a menu item that opens a form).
    Show(Dialog),
    OpenChat(Conv),
    /// Pin a chat to the top of Recent, or unpin it; the menu closes.
    Pin(Conv, bool),
    /// Do not disturb for a chat, or notifications again; the menu closes.
    Mute(Conv, bool),
    /// Send this to the server; the dialog stays unless it also said otherwise.
    Net(Command),
    /// Send this to the server and close the dialog: the answer shows in the list.
    NetAndClose(Command),
    /// Close, and show the groups tab where the group will appear (sending this first, if any): a group
    /// created, or joined.
    ToGroups(Option<Command>),
    SetLang(Option<Lang>),
    SetTheme(ThemePref),
    SetNotify(crate::notify::Prefs),
    /// Start the server this app hosts again when the app starts.
    Rehost(bool),
    /// Log in automatically from now on, or forget the saved login.
    AutoLogin(bool),
    /// Start the app with the OS, or no longer.
    StartWithOs(bool),
    /// Download pictures up to this many MB as they arrive (0: never).
    AutoPictures(u32),
    PickAvatar,
    ResetAvatar,
    OpenAbout,
    /// The settings window of this group; the menu closes.
    GroupSettings(u64),
    Logout,
    DismissDeclined(String),
    /// Quit the app, as asked.
    Quit,
    /// Hide the friend list to the tray, as told.
    HideToTray,
}

impl Dialog {
    pub fn add_friend() -> Dialog {
        Dialog::AddFriend(add_friend::State::default())
    }

    pub fn create_group() -> Dialog {
        Dialog::CreateGroup(create_group::State::default())
    }

    pub fn join_group() -> Dialog {
        Dialog::JoinGroup(join_group::State::default())
    }

    pub fn friend_menu(account: &str) -> Dialog {
        Dialog::FriendMenu(friend_menu::State {
            account: account.to_owned(),
        })
    }

    /// `name`: the group's own, to start a rename from (empty for the default group).
    pub fn category_menu(category: u64, name: &str) -> Dialog {
        Dialog::CategoryMenu(category_menu::State {
            category,
            name: name.to_owned(),
        })
    }

    pub fn group_menu(group: u64) -> Dialog {
        Dialog::GroupMenu(group_menu::State { group })
    }

    pub fn invite(group: u64) -> Dialog {
        Dialog::Invite(invite::State::new(group))
    }

    pub fn quit(others: usize) -> Dialog {
        Dialog::Confirm(confirm::State::Quit { others })
    }

    pub fn hide_to_tray() -> Dialog {
        Dialog::Confirm(confirm::State::HideToTray)
    }

    pub fn settings() -> Dialog {
        Dialog::Settings(settings::State::default())
    }

    /// My profile, as the server has it now.
    pub fn profile(model: &crate::model::Model) -> Dialog {
        Dialog::Profile(profile::State::of(model))
    }

    /// What opening the dialog asks of the server: the invitation list shows who is in already, which
    /// the server knows.
    pub fn on_open(&self) -> Option<Command> {
        match self {
            Dialog::Invite(state) => Some(state.ask()),
            _ => None,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match (self, message) {
            (Dialog::AddFriend(state), Message::AddFriend(m)) => state.update(m),
            (Dialog::Requests, Message::Requests(m)) => requests::update(m),
            (Dialog::Blocked, Message::Blocked(m)) => blocked::update(m),
            (Dialog::FriendMenu(state), Message::FriendMenu(m)) => state.update(m),
            (Dialog::Remark(state), Message::Remark(m)) => state.update(m),
            (Dialog::Password(state), Message::Password(m)) => state.update(m),
            (Dialog::Confirm(state), Message::Confirm(m)) => state.update(m),
            (Dialog::CreateGroup(state), Message::CreateGroup(m)) => state.update(m),
            (Dialog::JoinGroup(state), Message::JoinGroup(m)) => state.update(m),
            (Dialog::GroupMenu(state), Message::GroupMenu(m)) => state.update(m),
            (Dialog::Invite(state), Message::Invite(m)) => state.update(m),
            (Dialog::Settings(state), Message::Settings(m)) => state.update(m),
            (Dialog::Profile(state), Message::Profile(m)) => state.update(m),
            (Dialog::MoveFriend(state), Message::MoveFriend(m)) => state.update(m),
            (Dialog::CategoryMenu(state), Message::CategoryMenu(m)) => state.update(m),
            (Dialog::CategoryName(state), Message::CategoryName(m)) => state.update(m),
            // A message from a dialog drawn before another replaced it: nothing to do.
            _ => None,
        }
    }

    /// Whether this dialog explains a refusal with `code` itself: a join it asked for, invitations, a
    /// search that found no one ("no results").
    pub fn explains(&self, code: &ququ_protocol::ErrorCode) -> bool {
        match self {
            Dialog::JoinGroup(state) => state.waiting.is_some(),
            Dialog::Password(state) => state.waiting,
            Dialog::Profile(state) => state.waiting > 0,
            Dialog::Invite(_) => true,
            Dialog::AddFriend(_) => *code == ququ_protocol::ErrorCode::NoSuchUser,
            _ => false,
        }
    }

    /// Something changed in the model: the dialog waiting for it learns the answer, and may be done.
    pub fn changed(&mut self, change: &Change) -> Option<Event> {
        match (self, change) {
            (Dialog::JoinGroup(state), change) => state.changed(change),
            (Dialog::Password(state), change) => {
                state.changed(change);
                None
            }
            (Dialog::Profile(state), change) => state.changed(change),
            (Dialog::Invite(state), Change::Refused { code, about }) => {
                state.refused(code, about.as_deref());
                None
            }
            // Nothing left to answer once the last request is accepted or rejected.
            (Dialog::Requests, Change::RequestsEmptied) => Some(Event::Close),
            _ => None,
        }
    }

    /// The field the cursor goes to when this dialog opens: where the user types first, so a name
    /// can be typed (or pasted) at once, as in QQ's dialogs.
    pub fn first_field(&self) -> Option<&'static str> {
        match self {
            Dialog::AddFriend(_) => Some(add_friend::QUERY_INPUT),
            Dialog::Remark(_) => Some(remark::INPUT),
            Dialog::CategoryName(_) => Some(category_name::INPUT),
            Dialog::CreateGroup(_) => Some(create_group::NAME_INPUT),
            Dialog::JoinGroup(_) => Some(join_group::ID_INPUT),
            Dialog::Password(_) => Some(password::OLD),
            Dialog::Profile(_) => Some(profile::NICKNAME),
            _ => None,
        }
    }

    /// A row's right-click menu: shown as a pop-up at the pointer rather than a card over the window.
    pub fn is_menu(&self) -> bool {
        matches!(
            self,
            Dialog::FriendMenu(_)
                | Dialog::GroupMenu(_)
                | Dialog::MoveFriend(_)
                | Dialog::CategoryMenu(_)
        )
    }

    /// The dialog's title and body.
    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Option<(String, Element<'a, Message>)> {
        let model = ctx.model?;
        Some(match self {
            Dialog::AddFriend(state) => lift(state.view(ctx, model), Message::AddFriend),
            Dialog::Requests => lift(requests::view(ctx, model), Message::Requests),
            Dialog::FriendMenu(state) => lift(state.view(ctx, model), Message::FriendMenu),
            Dialog::Remark(state) => lift(state.view(ctx), Message::Remark),
            Dialog::Password(state) => lift(state.view(ctx), Message::Password),
            Dialog::Confirm(state) => lift(state.view(ctx, model), Message::Confirm),
            Dialog::CreateGroup(state) => lift(state.view(ctx), Message::CreateGroup),
            Dialog::JoinGroup(state) => lift(state.view(ctx), Message::JoinGroup),
            Dialog::GroupMenu(state) => lift(state.view(ctx, model), Message::GroupMenu),
            Dialog::Invite(state) => lift(state.view(ctx, model), Message::Invite),
            Dialog::Settings(state) => lift(state.view(ctx, model), Message::Settings),
            Dialog::Blocked => lift(blocked::view(ctx, model), Message::Blocked),
            Dialog::Profile(state) => lift(state.view(ctx, model), Message::Profile),
            Dialog::MoveFriend(state) => lift(state.view(ctx, model), Message::MoveFriend),
            Dialog::CategoryMenu(state) => lift(state.view(ctx, model), Message::CategoryMenu),
            Dialog::CategoryName(state) => lift(state.view(ctx), Message::CategoryName),
        })
    }
}

/// A dialog's title and body, its messages lifted into [`Message`].
fn lift<'a, T: 'a, M: 'a>(
    (title, body): (String, Element<'a, T>),
    f: impl Fn(T) -> M + 'a,
) -> (String, Element<'a, M>) {
    (title, body.map(f))
}

/// How a form's action button looks: the usual blue, or red for what cannot be undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Primary,
    Danger,
}

/// A form dialog's body: its fields, a problem in words under them (if any), then Cancel and the action
/// (greyed while `on_press` is `None`).
pub fn form<'a, M: Clone + 'a>(
    tr: &'static Tr,
    fields: impl Into<Element<'a, M>>,
    problem: Option<String>,
    (label, kind, on_press): (&'a str, Action, Option<M>),
    cancel: M,
) -> Element<'a, M> {
    let style = match kind {
        Action::Primary => theme::primary_button,
        Action::Danger => theme::danger_button,
    };
    Column::new()
        .push(fields)
        .push(problem.map(|p| text(p).size(12).style(theme::error_text)))
        .push(
            row![
                space().width(Fill),
                button(text(tr.cancel).size(13))
                    .style(theme::secondary_button)
                    .on_press(cancel),
                button(text(label).size(13))
                    .style(style)
                    .on_press_maybe(on_press),
            ]
            .spacing(8),
        )
        .spacing(12)
        .into()
}

/// A form's one-line field: Enter submits.
pub fn field<'a, M: Clone + 'a>(
    hint: &'a str,
    value: &'a str,
    id: &'static str,
    on_input: impl Fn(String) -> M + 'a,
    on_submit: M,
) -> Element<'a, M> {
    text_input(hint, value)
        .id(id)
        .on_input(on_input)
        .on_submit(on_submit)
        .padding(8)
        .style(theme::field)
        .into()
}

/// A chat menu's Pin and Do-not-disturb entries, saying what they will do.
pub fn chat_items<'a, M: Clone + 'a>(
    tr: &'static Tr,
    model: &crate::model::Model,
    conv: &Conv,
    pin: impl Fn(bool) -> M,
    mute: impl Fn(bool) -> M,
) -> [Element<'a, M>; 2] {
    let pinned = model.is_pinned(conv);
    let muted = model.is_muted(conv);
    [
        menu_item(
            if pinned { tr.unpin_chat } else { tr.pin_chat },
            pin(!pinned),
        ),
        menu_item(
            if muted { tr.unmute_chat } else { tr.mute_chat },
            mute(!muted),
        ),
    ]
}

/// One entry of a right-click menu.
pub fn menu_item<'a, M: Clone + 'a>(label: &'a str, message: M) -> Element<'a, M> {
    button(text(label).size(14))
        .width(Fill)
        .padding([8, 10])
        .style(theme::list_item)
        .on_press(message)
        .into()
}

/// A dialog that is a list (requests, the block list): the list, scrolling when long, a rule, Close.
pub fn list_with_close<'a, M: Clone + 'a>(
    tr: &'static Tr,
    list: impl Into<Element<'a, M>>,
    close: M,
) -> Element<'a, M> {
    Column::new()
        .push(iced::widget::scrollable(list).height(iced::Shrink))
        .push(iced::widget::rule::horizontal(1))
        .push(close_row(tr, close))
        .spacing(12)
        .into()
}

/// A menu entry shown but not offered (greyed): what already holds.
pub fn menu_item_off<'a, M: Clone + 'a>(label: String) -> Element<'a, M> {
    button(text(label).size(14))
        .width(Fill)
        .padding([8, 10])
        .style(theme::list_item)
        .into()
}

/// The Close button, at the right.
pub fn close_row<'a, M: Clone + 'a>(tr: &'static Tr, close: M) -> Element<'a, M> {
    row![
        space().width(Fill),
        button(text(tr.close).size(13))
            .style(theme::secondary_button)
            .on_press(close)
    ]
    .into()
}

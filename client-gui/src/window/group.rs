//! A group's settings window (群设置): its name, announcement (群公告), who may join, "mute everyone",
//! and the requests to join — changed by those the server lets change them, read by everyone else.
//!
//! Opened from a group chat's toolbar and from the group's right-click menu. What it shows is the
//! model's, drawn as it is: a rename, an announcement or a mute made from another device (or by another
//! admin) shows here at once. An edit stays open with what was typed until the server has taken it; a
//! refusal is said in words above the buttons and loses nothing.

use iced::widget::{
    button, checkbox, column, container, mouse_area, radio, row, scrollable, space, text,
    text_editor, text_input,
};
use iced::{Center, Element, Fill};
use ququ_protocol::{Conv, JoinPolicy, Role};

use crate::model::{Change, Model, format_date_time, local_offset_minutes};
use crate::net::Command;
use crate::widget::{self, Ctx, person_heading, user_text};
use crate::{avatar, theme};

#[derive(Debug)]
pub struct State {
    pub group: u64,
    /// The name being typed, while renaming.
    renaming: Option<String>,
    /// The announcement being written, while editing it.
    notice: Option<text_editor::Content>,
    /// A change was sent and the server has not answered yet: what it was about (the group's number
    /// or a member's account), so its refusal is said here and not lost.
    pub asked: Option<String>,
    /// The server's last refusal, in words.
    problem: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Rename,
    NameEdited(String),
    SaveName,
    CancelName,
    EditNotice,
    NoticeEdited(text_editor::Action),
    PublishNotice,
    RemoveNotice,
    CancelNotice,
    Policy(JoinPolicy),
    MuteAll(bool),
    /// Let this account in (`true`) or not.
    Answer(String, bool),
    Invite,
    OpenChat,
    /// Change the group's avatar (owner and admins): pick a picture.
    ChangeAvatar,
    Leave,
    Close,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Net(Command),
    /// Pick friends to bring in (the invite dialog, over the friend list).
    Invite(u64),
    /// Pick a picture for the group's avatar (a file dialog); the app sends it, see
    /// [`State::avatar_sent`].
    PickAvatar(u64),
    OpenChat(Conv),
    /// Leave the group, or dissolve it as its owner: asked first over the friend list.
    Leave {
        group: u64,
        owner: bool,
    },
    Close,
}

impl State {
    /// The window on `group`, and what to ask the server so it shows the group as it stands now.
    pub fn new(group: u64, model: &Model) -> (State, Vec<Command>) {
        let mut ask = vec![
            Command::ListMembers { group },
            Command::GroupPolicy {
                group,
                policy: None,
            },
        ];
        if model.features.group_notice {
            ask.push(Command::GroupNotice { group, text: None });
        }
        if model.features.group_mute {
            ask.push(Command::MuteAll { group, on: None });
        }
        let state = State {
            group,
            renaming: None,
            notice: None,
            asked: None,
            problem: None,
        };
        (state, ask)
    }

    pub fn name_id() -> iced::widget::Id {
        iced::widget::Id::new("group-name")
    }

    /// The name's Edit.
    pub fn name_edit_id() -> iced::widget::Id {
        iced::widget::Id::new("group-name-edit")
    }

    /// The announcement's Edit (the name has one too).
    pub fn notice_edit_id() -> iced::widget::Id {
        iced::widget::Id::new("group-notice-edit")
    }

    pub fn notice_id() -> iced::widget::Id {
        iced::widget::Id::new("group-notice")
    }

    pub fn update(&mut self, message: Message, model: &Model) -> Option<Event> {
        let group = self.group;
        let net = |this: &mut State, about: String, command: Command| {
            this.asked = Some(about);
            this.problem = None;
            Some(Event::Net(command))
        };
        match message {
            Message::Rename => {
                self.renaming = Some(model.conv_name(&Conv::Group(group)));
            }
            Message::NameEdited(name) => self.renaming = Some(name),
            Message::CancelName => self.renaming = None,
            Message::SaveName => {
                let name = self.renaming.as_deref().map(str::trim).unwrap_or_default();
                if name.is_empty() {
                    return None;
                }
                let name = name.to_owned();
                return net(
                    self,
                    group.to_string(),
                    Command::RenameGroup { group, name },
                );
            }
            Message::EditNotice => {
                let now = model
                    .notices
                    .get(&group)
                    .map(|n| n.text.as_str())
                    .unwrap_or_default();
                self.notice = Some(text_editor::Content::with_text(now));
            }
            Message::NoticeEdited(action) => {
                if let Some(content) = &mut self.notice {
                    content.perform(action);
                }
            }
            Message::CancelNotice => self.notice = None,
            Message::PublishNotice | Message::RemoveNotice => {
                let text = match message {
                    Message::PublishNotice => self
                        .notice
                        .as_ref()
                        .map(|c| c.text().trim().to_owned())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                if matches!(message, Message::RemoveNotice) {
                    self.notice = Some(text_editor::Content::new());
                }
                return net(
                    self,
                    group.to_string(),
                    Command::GroupNotice {
                        group,
                        text: Some(text),
                    },
                );
            }
            Message::Policy(policy) => {
                return net(
                    self,
                    group.to_string(),
                    Command::GroupPolicy {
                        group,
                        policy: Some(policy),
                    },
                );
            }
            Message::MuteAll(on) => {
                return net(
                    self,
                    group.to_string(),
                    Command::MuteAll {
                        group,
                        on: Some(on),
                    },
                );
            }
            Message::Answer(account, accept) => {
                return net(
                    self,
                    account.clone(),
                    Command::AnswerJoin {
                        group,
                        account,
                        accept,
                    },
                );
            }
            Message::Invite => return Some(Event::Invite(group)),
            Message::ChangeAvatar => return Some(Event::PickAvatar(group)),
            Message::OpenChat => return Some(Event::OpenChat(Conv::Group(group))),
            Message::Leave => {
                return Some(Event::Leave {
                    group,
                    owner: model.role_in(group, &model.account) == Role::Owner,
                });
            }
            Message::Close => return Some(Event::Close),
        }
        None
    }

    /// Something changed in the model: an edit the server has taken closes.
    pub fn changed(&mut self, change: &Change, model: &Model) {
        if *change != Change::GroupChanged(self.group)
            && *change != Change::GroupSettings(self.group)
        {
            return;
        }
        let name = model.conv_name(&Conv::Group(self.group));
        if self.renaming.as_deref().map(str::trim) == Some(name.as_str()) {
            self.renaming = None;
            self.asked = None;
        }
        let notice = model
            .notices
            .get(&self.group)
            .map(|n| n.text.as_str())
            .unwrap_or_default();
        if self
            .notice
            .as_ref()
            .is_some_and(|c| c.text().trim() == notice.trim())
            && self.asked.is_some()
        {
            self.notice = None;
            self.asked = None;
        }
        if self.notice.is_none() && self.renaming.is_none() {
            self.asked = None;
        }
    }

    /// The picture picked for the group's avatar is ready: the command that sends it, with its answer
    /// awaited here (a refusal is said in this window).
    pub fn avatar_sent(&mut self, image: Vec<u8>) -> Command {
        self.asked = Some(self.group.to_string());
        self.problem = None;
        Command::SetGroupAvatar {
            group: self.group,
            image,
        }
    }

    /// The picture picked could not be read: say why here.
    pub fn avatar_failed(&mut self, words: String) {
        self.problem = Some(words);
    }

    /// The server refused what this window asked: say so here. `false` if it was not about this
    /// window's last change.
    pub fn refused(&mut self, about: Option<&str>, words: String) -> bool {
        let ours = self.asked.is_some() && (about.is_none() || about == self.asked.as_deref());
        if ours {
            self.asked = None;
            self.problem = Some(words);
        }
        ours
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let tr = ctx.tr();
        let Some(model) = ctx.model else {
            return space().into();
        };
        let group = self.group;
        let conv = Conv::Group(group);
        let name = model.conv_name(&conv);
        let mine = model.role_in(group, &model.account);
        let manages = mine.manages();
        let count = model.members.get(&group).map_or_else(
            || model.groups.get(&group).map_or(0, |g| g.members as usize),
            Vec::len,
        );

        let heading = row![
            avatar::view(
                &name,
                &format!("group:{group}"),
                ctx.group_avatar(group),
                48.0
            ),
            column![
                user_text(name.clone(), 17.0, text::default),
                text(format!(
                    "{} · {}",
                    ctx.lang.group_id(group),
                    ctx.lang.members_total(count)
                ))
                .size(12)
                .style(theme::muted_text),
            ]
            .spacing(4)
            .width(Fill),
        ]
        // As in QQ, the owner and admins change the group's picture (群头像); the rest see it.
        .push(manages.then(|| {
            button(text(tr.change_group_avatar).size(12))
                .style(theme::secondary_button)
                .on_press(Message::ChangeAvatar)
        }))
        .spacing(12)
        .align_y(Center);

        let name_row: Element<'a, Message> = match &self.renaming {
            Some(typed) => row![
                text_input(tr.group_name_hint, typed)
                    .id(State::name_id())
                    .on_input(Message::NameEdited)
                    .on_submit(Message::SaveName)
                    .padding(6)
                    .size(13)
                    .style(theme::field),
                button(text(tr.cancel).size(12))
                    .style(theme::secondary_button)
                    .on_press(Message::CancelName),
                button(text(tr.save).size(12))
                    .style(theme::primary_button)
                    .on_press_maybe((!typed.trim().is_empty()).then_some(Message::SaveName)),
            ]
            .spacing(6)
            .align_y(Center)
            .into(),
            None => row![user_text(name, 13.0, text::default), space().width(Fill)]
                .push(manages.then(|| {
                    container(
                        button(text(tr.edit).size(12))
                            .padding([2, 8])
                            .style(theme::link)
                            .on_press(Message::Rename),
                    )
                    .id(State::name_edit_id())
                }))
                .align_y(Center)
                .into(),
        };
        let name_section = section(tr.group_name, name_row);

        let notice: Element<'a, Message> = match &self.notice {
            Some(content) => column![
                // Six lines of 13 px text, 17 px apart, in 8 px padding: 118 px.
                widget::whole_lines(
                    text_editor(content)
                        .id(State::notice_id())
                        .placeholder(tr.announcement_hint)
                        .on_action(Message::NoticeEdited),
                    6,
                    13.0,
                    17.0,
                    8.0,
                ),
                row![
                    text(format!(
                        "{}/{}",
                        content.text().trim().chars().count(),
                        model.notice_chars
                    ))
                    .size(11)
                    .style(theme::muted_text),
                    space().width(Fill),
                    button(text(tr.cancel).size(12))
                        .style(theme::secondary_button)
                        .on_press(Message::CancelNotice),
                    button(text(tr.publish).size(12))
                        .style(theme::primary_button)
                        .on_press_maybe(
                            (self.asked.is_none()
                                && content.text().trim().chars().count() <= model.notice_chars)
                                .then_some(Message::PublishNotice)
                        ),
                ]
                .spacing(6)
                .align_y(Center),
            ]
            .spacing(6)
            .into(),
            None => {
                let shown = model.notices.get(&group).filter(|n| !n.text.is_empty());
                let body: Element<'a, Message> = match shown {
                    Some(n) => column![
                        user_text(n.text.clone(), 13.0, text::default),
                        text(ctx.lang.announced_by(
                            &model.sender_name(Some(group), &n.by),
                            &format_date_time(n.time, local_offset_minutes()),
                        ))
                        .size(11)
                        .style(theme::muted_text),
                    ]
                    .spacing(4)
                    .into(),
                    None => text(tr.no_announcement)
                        .size(13)
                        .style(theme::muted_text)
                        .into(),
                };
                let actions = manages.then(|| {
                    row![space().width(Fill)]
                        .push(shown.map(|_| {
                            button(text(tr.remove_announcement).size(12))
                                .padding([2, 8])
                                .style(theme::link)
                                .on_press(Message::RemoveNotice)
                        }))
                        .push(
                            container(
                                button(text(tr.edit).size(12))
                                    .padding([2, 8])
                                    .style(theme::link)
                                    .on_press(Message::EditNotice),
                            )
                            .id(State::notice_edit_id()),
                        )
                        .spacing(4)
                });
                column![body].push(actions).spacing(4).into()
            }
        };
        let notice_section = model
            .features
            .group_notice
            .then(|| section(tr.announcement, notice));

        let policy = model.group_policies.get(&group).copied();
        let policy_body: Element<'a, Message> = if mine == Role::Owner {
            column(
                [
                    (JoinPolicy::Open, tr.policy_open),
                    (JoinPolicy::Approve, tr.policy_approve),
                    (JoinPolicy::Invite, tr.policy_invite),
                ]
                .into_iter()
                .map(|(value, label)| {
                    // The label is a text of its own beside an unlabelled radio, so that it can be
                    // read out (iced's radio gives its label to no one) and clicked all the same.
                    mouse_area(
                        row![
                            radio("", value, policy, Message::Policy)
                                .size(15)
                                .spacing(0),
                            text(label).size(13)
                        ]
                        .spacing(8)
                        .align_y(Center),
                    )
                    .on_press(Message::Policy(value))
                    .interaction(iced::mouse::Interaction::Pointer)
                    .into()
                }),
            )
            .spacing(8)
            .into()
        } else {
            let word = match policy {
                Some(JoinPolicy::Open) => tr.policy_open,
                Some(JoinPolicy::Approve) => tr.policy_approve,
                Some(JoinPolicy::Invite) => tr.policy_invite,
                None => tr.loading,
            };
            column![
                text(word).size(13),
                text(tr.owner_only).size(11).style(theme::muted_text)
            ]
            .spacing(4)
            .into()
        };
        let policy_section = section(tr.join_policy, policy_body);

        let mute_section = (model.features.group_mute && manages).then(|| {
            container(
                checkbox(model.muted_groups.contains(&group))
                    .label(tr.mute_everyone)
                    .size(16)
                    .text_size(13)
                    .on_toggle(Message::MuteAll),
            )
            .padding([4, 0])
        });

        let requests_section = manages.then(|| {
            let mut list = column![].spacing(10);
            let mut any = false;
            for request in model.join_requests_for(group) {
                any = true;
                list = list.push(
                    row![
                        avatar::view(
                            &request.nickname,
                            &request.account,
                            ctx.user_avatar(&request.account),
                            32.0,
                        ),
                        column![
                            person_heading(&request.nickname, &request.account),
                            text(format_date_time(request.time, local_offset_minutes()))
                                .size(11)
                                .style(theme::muted_text),
                        ]
                        .spacing(2)
                        .width(Fill),
                        button(text(tr.reject).size(12))
                            .style(theme::secondary_button)
                            .on_press(Message::Answer(request.account.clone(), false)),
                        button(text(tr.accept).size(12))
                            .style(theme::primary_button)
                            .on_press(Message::Answer(request.account.clone(), true)),
                    ]
                    .spacing(8)
                    .align_y(Center),
                );
            }
            if !any {
                list = list.push(text(tr.no_join_requests).size(13).style(theme::muted_text));
            }
            section(tr.join_requests, list.into())
        });

        let leave = if mine == Role::Owner {
            tr.dissolve_group
        } else {
            tr.leave_group
        };
        let buttons = row![
            button(text(tr.invite_friends).size(13))
                .style(theme::secondary_button)
                .on_press(Message::Invite),
            button(text(tr.open_chat).size(13))
                .style(theme::secondary_button)
                .on_press(Message::OpenChat),
            space().width(Fill),
            button(text(leave).size(13))
                .style(theme::danger_button)
                .on_press(Message::Leave),
        ]
        .spacing(8)
        .align_y(Center);

        let problem = self
            .problem
            .as_ref()
            .map(|p| text(p.as_str()).size(12).style(theme::error_text));
        // "Saving…" only under an edit waiting for the server; a choice or an answer shows itself
        // when the server has taken it (the radio moves, the request goes).
        let editing = self.renaming.is_some() || self.notice.is_some();
        let saving = (self.asked.is_some() && editing)
            .then(|| text(tr.saving).size(12).style(theme::muted_text));

        let body = column![heading, name_section]
            .push(notice_section)
            .push(policy_section)
            .push(mute_section)
            .push(requests_section)
            .spacing(16)
            .padding([16, 20]);
        column![
            scrollable(body).height(Fill),
            iced::widget::rule::horizontal(1),
            container(
                column![]
                    .push(problem)
                    .push(saving)
                    .push(buttons)
                    .spacing(6)
            )
            .padding([10, 16])
            .style(theme::surface),
        ]
        .into()
    }
}

/// A titled part of the window: a small grey heading over what it holds.
fn section<'a>(title: &'a str, body: Element<'a, Message>) -> Element<'a, Message> {
    column![text(title).size(12).style(theme::muted_text), body]
        .spacing(6)
        .into()
}

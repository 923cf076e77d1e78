//! The member list beside a group chat: the owner, then admins, then online first; the owner and
//! admins marked, as QQ marks 群主 and 管理员, and a muted member says until when. Right-click on a
//! member opens their menu at the pointer: send a message, @ them, and what my role lets me do to
//! theirs (make or unmake an admin, mute, hand the group over, remove).

use iced::widget::{button, column, container, mouse_area, row, scrollable, space, text};
use iced::{Center, Element, Fill};
use ququ_protocol::Role;

use super::{Mention, Message};
use crate::model::{Connection, MUTE_CHOICES, MemberAction, Model, format_mute_end, now_millis};
use crate::widget::{Ctx, popup_at, user_text};
use crate::{avatar, theme};

/// Width of the list beside the messages.
pub const WIDTH: f32 = 170.0;

/// Width of a member's menu.
const MENU_WIDTH: f32 = 162.0;

/// How much of a member's signature their menu shows: two lines of the menu at 12 px in Chinese,
/// about one in English.
const SIGNATURE_CHARS: usize = 20;

/// A member's row in the list, by account: for finding it on screen (tests).
pub fn member_id(account: &str) -> iced::widget::Id {
    iced::widget::Id::from(format!("member-{account}"))
}

/// The member list beside a group chat.
pub fn view<'a>(ctx: &Ctx<'a>, model: &'a Model, group: u64) -> Element<'a, Message> {
    let now = now_millis();
    let mut members: Vec<_> = model
        .members
        .get(&group)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    let rank = |role: Role| match role {
        Role::Owner => 0,
        Role::Admin => 1,
        Role::Member => 2,
    };
    members.sort_by(|a, b| {
        rank(a.role)
            .cmp(&rank(b.role))
            .then_with(|| b.presence.is_online().cmp(&a.presence.is_online()))
            .then_with(|| a.display_name().cmp(b.display_name()))
    });
    let online = members
        .iter()
        .filter(|m| ctx.seen(m.presence) == Some(true))
        .count();
    let count = if ctx.conn == Connection::Online {
        ctx.lang.members(online, members.len())
    } else {
        ctx.lang.members_total(members.len())
    };
    let mut list = column![text(count).size(12).style(theme::muted_text)].spacing(8);
    for member in members {
        let mut name_row = row![user_text(
            member.display_name().to_owned(),
            13.0,
            text::default
        )]
        .spacing(4)
        .align_y(Center);
        match member.role {
            Role::Owner => {
                name_row =
                    name_row.push(text(ctx.tr().owner).size(10).style(|theme: &iced::Theme| {
                        text::Style {
                            color: Some(theme.palette().warning),
                        }
                    }));
            }
            Role::Admin => {
                name_row =
                    name_row.push(text(ctx.tr().admin).size(10).style(|theme: &iced::Theme| {
                        text::Style {
                            color: Some(theme.palette().success),
                        }
                    }));
            }
            Role::Member => {}
        }
        let name: Element<'a, Message> = if member.muted_until > now {
            column![
                name_row,
                text(ctx.lang.muted_short(&format_mute_end(member.muted_until)))
                    .size(10)
                    .style(theme::error_text)
            ]
            .spacing(1)
            .into()
        } else {
            name_row.into()
        };
        let dot = container(space())
            .width(8)
            .height(8)
            .style(theme::presence_dot(ctx.seen(member.presence) == Some(true)));
        list = list.push(
            mouse_area(
                container(
                    row![
                        avatar::view(
                            member.display_name(),
                            &member.account,
                            ctx.user_avatar(&member.account),
                            24.0,
                        ),
                        name,
                        space().width(Fill),
                        dot
                    ]
                    .spacing(6)
                    .align_y(Center),
                )
                .id(member_id(&member.account)),
            )
            .on_right_press(Message::MemberMenu(member.account.clone())),
        );
    }
    container(scrollable(list).height(Fill))
        .width(WIDTH)
        .height(Fill)
        .padding([10, 10])
        .style(theme::surface)
        .into()
}

/// A member's menu at `at` (over the messages and the list), or none when I can do nothing to them.
pub fn menu<'a>(
    ctx: &Ctx<'a>,
    model: &'a Model,
    group: u64,
    account: &str,
    at: iced::Point,
) -> Option<Element<'a, Message>> {
    let tr = ctx.tr();
    let actions = model.member_actions(group, account, now_millis());
    if actions.is_empty() {
        return None;
    }
    let name = model.sender_name(Some(group), account);
    let mut items: Vec<(String, Message)> = Vec::new();
    for action in actions {
        let who = account.to_owned();
        match action {
            MemberAction::Chat => items.push((tr.open_chat.into(), Message::MemberDo(who, action))),
            MemberAction::Mention => items.push((
                tr.mention_them.into(),
                Message::Mention(Mention::Account(who), name.clone()),
            )),
            MemberAction::Admin(true) => {
                items.push((tr.make_admin.into(), Message::MemberDo(who, action)));
            }
            MemberAction::Admin(false) => {
                items.push((tr.remove_admin.into(), Message::MemberDo(who, action)));
            }
            MemberAction::Unmute => items.push((tr.unmute.into(), Message::MemberDo(who, action))),
            MemberAction::Mute => items.extend(MUTE_CHOICES.iter().map(|secs| {
                (
                    ctx.lang.mute_for(*secs),
                    Message::MuteFor(who.clone(), *secs),
                )
            })),
            MemberAction::Transfer => {
                items.push((tr.transfer_owner.into(), Message::MemberDo(who, action)));
            }
            MemberAction::Kick => {
                items.push((tr.remove_member.into(), Message::MemberDo(who, action)));
            }
        }
    }
    // Who they are, above what can be done: their account, gender and region if said, and their
    // signature (个性签名) cut short — what a fellow member who is no friend sees of their profile.
    let profile = model
        .members
        .get(&group)
        .and_then(|ms| ms.iter().find(|m| m.account == account))
        .map(|m| &m.profile);
    let about = ctx.lang.who(account, profile);
    let signature = profile
        .map(|p| p.signature.trim())
        .filter(|s| !s.is_empty())
        .map(|s| crate::widget::cut_line(s, SIGNATURE_CHARS));
    // Each item is about 30 px high, the header up to four 17 px lines (each part may wrap once), with
    // 8 px of card padding: enough to keep the menu inside the window.
    let header = if signature.is_some() { 72.0 } else { 38.0 };
    let most = iced::Size::new(MENU_WIDTH, items.len() as f32 * 30.0 + header + 8.0);
    Some(popup_at(at, most, Message::CloseMenu, move || {
        let top = column![text(about.clone()).size(12).style(theme::muted_text)]
            .push(
                signature
                    .clone()
                    .map(|s| text(s).size(12).style(theme::muted_text)),
            )
            .spacing(2)
            .padding([2, 12]);
        let card = items.iter().fold(
            column![top].width(MENU_WIDTH - 8.0),
            |card, (label, message)| {
                card.push(
                    button(text(label.clone()).size(13))
                        .width(Fill)
                        .padding([6, 12])
                        .style(theme::list_item)
                        .on_press(message.clone()),
                )
            },
        );
        container(card).padding(4).style(theme::card).into()
    }))
}

//! The member list beside a group chat: the owner, then admins, then online first; the owner and
//! admins marked, as QQ marks 群主 and 管理员.

use iced::widget::{column, container, row, scrollable, space, text};
use iced::{Center, Element, Fill};
use ququ_protocol::Role;

use super::Message;
use crate::model::{Connection, Model};
use crate::widget::{Ctx, user_text};
use crate::{avatar, theme};

/// The member list beside a group chat: online first.
pub fn view<'a>(ctx: &Ctx<'a>, model: &'a Model, group: u64) -> Element<'a, Message> {
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
        let dot = container(space())
            .width(8)
            .height(8)
            .style(theme::presence_dot(ctx.seen(member.presence) == Some(true)));
        list = list.push(
            row![
                avatar::view(member.display_name(), &member.account, None, 24.0),
                name_row,
                space().width(Fill),
                dot
            ]
            .spacing(6)
            .align_y(Center),
        );
    }
    container(scrollable(list).height(Fill))
        .width(170)
        .padding([10, 10])
        .style(theme::surface)
        .into()
}

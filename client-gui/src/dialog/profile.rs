//! My profile (个人资料), opened from my avatar in the friend list's header or from Settings: nickname,
//! signature, gender and region, as friends and fellow group members see them; my avatar and account
//! beside them. Save sends what changed, a line each, and the dialog stays until the server has
//! answered every one: taken, it closes; refused (a name the server will not keep), the words show and
//! what was typed stays. Lengths over the server's limits are said before anything is sent.

use iced::widget::{button, column, pick_list, row, text, text_input};
use iced::{Center, Element, Fill};
use ququ_protocol::{ErrorCode, Gender, Profile, ProfileChange};

use super::{Action, Event, form};
use crate::avatar;
use crate::model::{Change, Model};
use crate::net::Command;
use crate::theme;
use crate::widget::Ctx;

pub const NICKNAME: &str = "profile-nickname";
pub const SIGNATURE: &str = "profile-signature";
pub const REGION: &str = "profile-region";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub nickname: String,
    pub profile: Profile,
    /// What the server had when the dialog opened: Save sends only what differs.
    was: (String, Profile),
    /// Lines sent whose answers have not come yet.
    pub waiting: usize,
    pub refused: Option<ErrorCode>,
    /// A problem with the avatar just picked (not a picture, too large for the server).
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Nickname(String),
    Signature(String),
    Gender(GenderChoice),
    Region(String),
    PickAvatar,
    Save,
    Cancel,
}

/// A gender choice with its words (`None`: not said).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenderChoice(pub Option<Gender>, pub &'static str);

impl std::fmt::Display for GenderChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
    }
}

impl State {
    /// The dialog for my profile as the server has it now.
    pub fn of(model: &Model) -> State {
        State {
            nickname: model.nickname.clone(),
            profile: model.profile.clone(),
            was: (model.nickname.clone(), model.profile.clone()),
            waiting: 0,
            refused: None,
            notice: None,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Nickname(t) => self.nickname = t,
            Message::Signature(t) => self.profile.signature = t,
            Message::Gender(choice) => self.profile.gender = choice.0,
            Message::Region(t) => self.profile.region = t,
            Message::PickAvatar => return Some(Event::PickAvatar),
            Message::Save => return self.save(),
            Message::Cancel => return Some(Event::Close),
        }
        self.refused = None;
        None
    }

    /// The lines Save sends: a new nickname if it changed, then each part of the profile that did.
    fn save(&mut self) -> Option<Event> {
        if self.waiting > 0 {
            return None;
        }
        let nickname = self.nickname.trim();
        let (was_nickname, was) = &self.was;
        let nickname = (nickname != was_nickname).then(|| nickname.to_owned());
        let signature = self.profile.signature.trim();
        let region = self.profile.region.trim();
        let mut changes = Vec::new();
        if signature != was.signature {
            changes.push(ProfileChange::Signature(signature.to_owned()));
        }
        if self.profile.gender != was.gender {
            changes.push(ProfileChange::Gender(self.profile.gender));
        }
        if region != was.region {
            changes.push(ProfileChange::Region(region.to_owned()));
        }
        let lines = usize::from(nickname.is_some()) + changes.len();
        if lines == 0 {
            return Some(Event::Close);
        }
        self.waiting = lines;
        self.refused = None;
        Some(Event::Net(Command::UpdateProfile { nickname, changes }))
    }

    /// The server's answer to a line Save sent, if this is one: when the last is in and none was
    /// refused, the dialog is done.
    pub fn changed(&mut self, change: &Change) -> Option<Event> {
        if self.waiting == 0 {
            return None;
        }
        match change {
            Change::MyProfile => self.waiting -= 1,
            Change::Refused { code, .. } => {
                self.waiting -= 1;
                self.refused = Some(code.clone());
            }
            _ => return None,
        }
        (self.waiting == 0 && self.refused.is_none()).then_some(Event::Close)
    }

    /// What is wrong with what is typed, before anything is sent.
    fn problem(&self, ctx: &Ctx<'_>, model: &Model) -> Option<String> {
        let tr = ctx.tr();
        let too_long = |field: &str, value: &str, max: usize| {
            (value.trim().chars().count() > max).then(|| ctx.lang.field_too_long(field, max))
        };
        if self.nickname.trim().is_empty() {
            return Some(tr.nickname_needed.to_owned());
        }
        too_long(tr.nickname, &self.nickname, model.name_chars)
            .or_else(|| too_long(tr.signature, &self.profile.signature, model.sign_chars))
            .or_else(|| too_long(tr.region, &self.profile.region, model.name_chars))
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let input = |hint: &'a str, value: &'a str, id: &'static str, on: fn(String) -> Message| {
            text_input(hint, value)
                .id(id)
                .on_input(on)
                .on_submit(Message::Save)
                .padding(6)
                .size(13)
                .style(theme::field)
        };
        let labelled = |label: &'a str, field: Element<'a, Message>| {
            row![text(label).size(13).width(70), field]
                .spacing(8)
                .align_y(Center)
        };
        let genders: Vec<GenderChoice> = [
            None,
            Some(Gender::Male),
            Some(Gender::Female),
            Some(Gender::Other),
        ]
        .into_iter()
        .map(|g| GenderChoice(g, ctx.lang.gender(g)))
        .collect();
        let gender = genders.iter().copied().find(|c| c.0 == self.profile.gender);
        let me = row![
            avatar::view(model.my_name(), &model.account, ctx.my_avatar, 48.0),
            column![
                text(format!("{}: {}", tr.account, model.account))
                    .size(12)
                    .style(theme::muted_text),
                button(text(tr.change_avatar).size(13))
                    .style(theme::link)
                    .padding(0)
                    .on_press(Message::PickAvatar),
            ]
            .spacing(4),
        ]
        .spacing(12)
        .align_y(Center);
        let fields = column![
            me,
            labelled(
                tr.nickname,
                input(
                    tr.nickname_hint,
                    &self.nickname,
                    NICKNAME,
                    Message::Nickname
                )
                .into()
            ),
            labelled(
                tr.signature,
                input(
                    tr.signature_hint,
                    &self.profile.signature,
                    SIGNATURE,
                    Message::Signature
                )
                .into()
            ),
            labelled(
                tr.gender,
                pick_list(genders, gender, Message::Gender)
                    .width(Fill)
                    .text_size(13)
                    .style(theme::pick_list)
                    .into()
            ),
            labelled(
                tr.region,
                input(
                    tr.region_hint,
                    &self.profile.region,
                    REGION,
                    Message::Region
                )
                .into()
            ),
        ]
        .spacing(10);
        let problem = self.problem(ctx, model);
        let ready = self.waiting == 0 && problem.is_none();
        let problem = problem
            .or_else(|| self.refused.as_ref().map(|c| ctx.lang.refusal(c)))
            .or_else(|| self.notice.clone());
        let body = form(
            tr,
            fields,
            problem,
            (tr.save, Action::Primary, ready.then_some(Message::Save)),
            Message::Cancel,
        );
        (tr.my_profile.to_owned(), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened() -> State {
        let mut model = Model::new("alice".into(), "Alice".into());
        model.profile.signature = "hello".into();
        State::of(&model)
    }

    #[test]
    fn save_sends_only_what_changed_and_closes_when_every_answer_is_in() {
        let mut state = opened();
        assert_eq!(
            state.update(Message::Save),
            Some(Event::Close),
            "nothing changed"
        );
        state.update(Message::Nickname(" 爱丽丝 ".into()));
        state.update(Message::Gender(GenderChoice(Some(Gender::Female), "")));
        state.update(Message::Region("上海".into()));
        assert_eq!(
            state.update(Message::Save),
            Some(Event::Net(Command::UpdateProfile {
                nickname: Some("爱丽丝".into()),
                changes: vec![
                    ProfileChange::Gender(Some(Gender::Female)),
                    ProfileChange::Region("上海".into()),
                ],
            }))
        );
        assert_eq!(state.update(Message::Save), None, "not twice while waiting");
        assert_eq!(state.changed(&Change::MyProfile), None);
        assert_eq!(state.changed(&Change::MyProfile), None);
        assert_eq!(state.changed(&Change::MyProfile), Some(Event::Close));
    }

    #[test]
    fn a_refusal_keeps_the_dialog_and_what_was_typed() {
        let mut state = opened();
        state.update(Message::Signature("x".repeat(10)));
        state.update(Message::Nickname("Ally".into()));
        assert!(matches!(state.update(Message::Save), Some(Event::Net(_))));
        let refused = Change::Refused {
            code: ErrorCode::TooLong,
            about: None,
        };
        assert_eq!(state.changed(&refused), None);
        assert_eq!(state.changed(&Change::MyProfile), None, "still open");
        assert_eq!(state.refused, Some(ErrorCode::TooLong));
        assert_eq!(state.nickname, "Ally");
        // Not waiting any more: an answer to something else is not taken for this dialog's.
        assert_eq!(state.changed(&Change::MyProfile), None);
        assert_eq!(state.waiting, 0);
    }
}

//! The group settings window's questions: open it, send what it changes, and show over the friend
//! list the dialogs it starts there (invite friends, leave or dissolve).

use iced::{Size, Task, window};

use super::{App, Message, Window};
use crate::dialog::{Dialog, confirm};
use crate::window::{contacts, group};

impl App {
    /// Opens the settings of `group`, or brings the one open on it to the front; asks the server for
    /// what it shows (members, who may join, the announcement, mute everyone).
    pub fn open_group_settings(&mut self, group: u64) -> Task<Message> {
        if let Some((&id, _)) = self
            .windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Group(g) if g.group == group))
        {
            return window::gain_focus(id);
        }
        let Some(model) = &self.model else {
            return Task::none();
        };
        let (state, ask) = group::State::new(group, model);
        for command in ask {
            self.send(command);
        }
        let (id, open) = window::open(window::Settings {
            size: Size::new(480.0, 620.0),
            min_size: Some(Size::new(400.0, 420.0)),
            ..super::windows::window_settings()
        });
        self.windows.insert(id, Window::Group(state));
        open.discard()
    }

    pub(super) fn on_group_event(&mut self, id: window::Id, event: group::Event) -> Task<Message> {
        match event {
            group::Event::Net(command) => {
                self.send(command);
                Task::none()
            }
            group::Event::OpenChat(conv) => self.open_chat(conv),
            group::Event::PickAvatar(group) => Task::perform(
                crate::avatar::pick_file(self.tr().change_group_avatar.to_owned()),
                move |path| Message::GroupAvatarPicked(group, path),
            ),
            group::Event::Invite(group) => self.over_contacts(Dialog::invite(group)),
            group::Event::Leave { group, owner } => {
                let state = if owner {
                    confirm::State::DissolveGroup { group }
                } else {
                    confirm::State::LeaveGroup { group }
                };
                self.over_contacts(Dialog::Confirm(state))
            }
            group::Event::Close => window::close(id),
        }
    }

    /// Shows `dialog` over the friend list, brought to the front.
    fn over_contacts(&mut self, dialog: Dialog) -> Task<Message> {
        let Some(id) = self.contacts_window() else {
            return Task::none();
        };
        let show = self.update(Message::Contacts(id, contacts::Message::Show(dialog)));
        Task::batch([self.show_window(id), show])
    }
}

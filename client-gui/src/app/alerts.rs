//! A message for a chat that is not in front: a desktop notification (several from one chat replace one
//! another), and the taskbar or dock asks for attention when no Ququ window is in front. The tray icon:
//! what it shows (derived from the app after each message), and what its clicks and menu do.

use iced::{Task, window};
use ququ_protocol::Conv;

use super::{App, Message, Window};
use crate::dialog::Dialog;
use crate::model::Connection;
use crate::{notify, tray};

impl App {
    /// Tells the user of a new message in `conv`, unless its chat window is in front.
    pub(super) fn alert(&mut self, conv: &Conv) -> Task<Message> {
        let chat = self.chat_window(conv);
        if chat.is_some() && chat == self.focused {
            return Task::none();
        }
        let attention = self.ask_attention(chat.or_else(|| self.contacts_window()));
        Task::batch([attention, self.notify(&notify::Topic::Chat(conv.clone()))])
    }

    /// Tells the user of a new friend request: the friend list asks for attention when nothing of ours
    /// is in front, and a desktop notification says who asks.
    pub(super) fn alert_request(&mut self) -> Task<Message> {
        let attention = self.ask_attention(self.contacts_window());
        Task::batch([attention, self.notify(&notify::Topic::Requests)])
    }

    /// With nothing of ours in front, `window` asks for attention: the taskbar button flashes
    /// (Windows), the dock icon bounces once (macOS), the window is marked urgent (X11).
    fn ask_attention(&self, window: Option<window::Id>) -> Task<Message> {
        match window {
            Some(id) if self.focused.is_none() => {
                window::request_user_attention(id, Some(window::UserAttention::Informational))
            }
            _ => Task::none(),
        }
    }

    /// Shows (or updates) the desktop notification of `topic` — a chat's newest unread message, or the
    /// newest friend request — unless "do not disturb"; one call at a time per topic, a later one
    /// waiting for the answer.
    fn notify(&mut self, topic: &notify::Topic) -> Task<Message> {
        let (Some(desktop), Some(model)) = (&self.desktop, &self.model) else {
            return Task::none();
        };
        if self.settings.do_not_disturb {
            return Task::none();
        }
        let (prefs, lang) = (self.settings.notify_prefs(), self.lang());
        let alert = match topic {
            notify::Topic::Chat(conv) => notify::alert(model, conv, prefs, lang),
            // The newest request, a friend's or to join a group of mine.
            notify::Topic::Requests => {
                let friend = model.requests.iter().max_by_key(|r| r.time);
                let join = model.join_requests.iter().max_by_key(|r| r.time);
                match (friend, join) {
                    (Some(f), Some(j)) if f.time >= j.time => {
                        notify::request_alert(model, &f.from, prefs, lang)
                    }
                    (_, Some(j)) => notify::join_alert(model, j, prefs, lang),
                    (Some(f), None) => notify::request_alert(model, &f.from, prefs, lang),
                    (None, None) => None,
                }
            }
        };
        let Some(alert) = alert else {
            return Task::none();
        };
        let Some(replaces) = self.notified.want(topic) else {
            return Task::none();
        };
        let open = self.tr().open_chat_action.to_owned();
        let topic = topic.clone();
        Task::perform(desktop.show(alert, replaces, open), move |shown| {
            Message::Notified(topic.clone(), shown)
        })
    }

    /// A notification was shown: its id, so the topic's next one replaces it. One that could not be
    /// shown says why in the settings dialog.
    pub(super) fn on_notified(
        &mut self,
        topic: notify::Topic,
        shown: Result<u32, notify::Problem>,
    ) -> Task<Message> {
        let id = match shown {
            Ok(id) => {
                self.notify_problem = None;
                Some(id)
            }
            Err(e) => {
                self.notify_problem = Some(e);
                None
            }
        };
        // What came while this was on its way: one update with the newest (a chat's, if still unread).
        if self.notified.answered(&topic, id) {
            self.notify(&topic)
        } else {
            Task::none()
        }
    }

    /// Clicking a notification opens its chat in front, or the friend requests over the friend list.
    pub(super) fn on_notification_clicked(&mut self, id: u32) -> Task<Message> {
        if self.model.is_none() {
            return Task::none();
        }
        match self.notified.topic(id).cloned() {
            Some(notify::Topic::Chat(conv)) => self.open_chat(conv),
            Some(notify::Topic::Requests) => {
                if let Some(Window::Contacts(state)) = self
                    .contacts_window()
                    .and_then(|id| self.windows.get_mut(&id))
                {
                    state.dialog = Some(Dialog::Requests);
                }
                self.show_main()
            }
            None => Task::none(),
        }
    }

    /// What the tray icon shows now, from the app as it is.
    pub fn tray_view(&self) -> tray::Shown {
        tray::Shown {
            lang: self.lang(),
            account: self.model.as_ref().map(|m| m.account.clone()),
            online: self.model.is_some() && self.conn == Connection::Online,
            unread: self.model.as_ref().map_or(0, |m| m.total_unread()),
            requests: self.model.as_ref().map_or(0, |m| m.requests_needing_me()),
            group_requests: self
                .model
                .as_ref()
                .is_some_and(|m| !m.join_requests.is_empty()),
            dnd: self.settings.do_not_disturb,
        }
    }

    /// Tells the tray icon what it shows, if that changed since it was last told.
    pub(super) fn sync_tray(&mut self) -> Option<Task<Message>> {
        let handle = self.tray.as_ref()?;
        let shown = self.tray_view();
        if self.tray_shown.as_ref() == Some(&shown) {
            return None;
        }
        self.tray_shown = Some(shown.clone());
        Some(Task::perform(handle.show(shown), Message::TrayShown))
    }

    pub(super) fn on_tray(&mut self, event: tray::Event) -> Task<Message> {
        match event {
            tray::Event::Ready(handle) => {
                self.tray = Some(handle);
                self.tray_problem = None;
                self.tray_shown = None;
                Task::none()
            }
            tray::Event::Unavailable(problem) => {
                self.tray_problem = Some(problem);
                Task::none()
            }
            // As QQ's: the newest chat with something unread, else the friend list.
            tray::Event::Activate => match self.model.as_ref().and_then(|m| m.newest_unread()) {
                Some(conv) => self.open_chat(conv),
                None => self.show_main(),
            },
            tray::Event::Open => self.show_main(),
            tray::Event::DoNotDisturb(on) => {
                self.settings.do_not_disturb = on;
                self.save_settings()
            }
            tray::Event::Quit => self.quit(),
        }
    }
}

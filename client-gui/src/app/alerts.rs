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
        let mut tasks = Vec::new();
        // Nothing of ours in front: the taskbar button flashes (Windows), the dock icon bounces once
        // (macOS), the window is marked urgent (X11).
        if self.focused.is_none()
            && let Some(id) = chat.or_else(|| self.contacts_window())
        {
            tasks.push(window::request_user_attention(
                id,
                Some(window::UserAttention::Informational),
            ));
        }
        tasks.push(self.notify(conv));
        Task::batch(tasks)
    }

    /// Tells the user of a new friend request: the friend list asks for attention when nothing of ours
    /// is in front, and a desktop notification says who asks.
    pub(super) fn alert_request(&mut self, from: &str) -> Task<Message> {
        let mut tasks = Vec::new();
        if self.focused.is_none()
            && let Some(id) = self.contacts_window()
        {
            tasks.push(window::request_user_attention(
                id,
                Some(window::UserAttention::Informational),
            ));
        }
        let alert = self.model.as_ref().and_then(|model| {
            notify::request_alert(model, from, self.settings.notify_prefs(), self.lang())
        });
        tasks.push(self.show_alert(alert));
        Task::batch(tasks)
    }

    /// Shows (or updates) `conv`'s desktop notification, one call at a time per chat.
    fn notify(&mut self, conv: &Conv) -> Task<Message> {
        let alert = self.model.as_ref().and_then(|model| {
            notify::alert(model, conv, self.settings.notify_prefs(), self.lang())
        });
        self.show_alert(alert)
    }

    /// Hands `alert` to the desktop (unless "do not disturb"), replacing its topic's last one; while the
    /// topic's call is on its way, a later one waits for its answer.
    fn show_alert(&mut self, alert: Option<notify::Alert>) -> Task<Message> {
        let (Some(desktop), Some(alert)) = (&self.desktop, alert) else {
            return Task::none();
        };
        if self.settings.do_not_disturb {
            return Task::none();
        }
        let topic = alert.topic.clone();
        let Some(replaces) = self.notified.want(&topic) else {
            return Task::none();
        };
        let open = self.tr().open_chat_action.to_owned();
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
        if !self.notified.answered(&topic, id) {
            return Task::none();
        }
        match topic {
            notify::Topic::Chat(conv) => self.notify(&conv),
            notify::Topic::Requests => {
                let newest = self
                    .model
                    .as_ref()
                    .and_then(|m| m.requests.last())
                    .map(|r| r.from.clone());
                let alert = newest.and_then(|from| {
                    let model = self.model.as_ref()?;
                    notify::request_alert(model, &from, self.settings.notify_prefs(), self.lang())
                });
                self.show_alert(alert)
            }
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

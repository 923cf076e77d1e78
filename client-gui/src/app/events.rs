//! What the contact list and the chat windows ask of the app: commands for the connection, settings to
//! keep, windows to open, history to load.

use iced::{Task, window};
use ququ_protocol::Conv;

use super::{App, Message, Window};
use crate::avatar;
use crate::config::{self, Settings};
use crate::model::{Change, Model};
use crate::net::{self, Command};
use crate::window::{chat, contacts};

impl App {
    pub(super) fn on_contacts_event(&mut self, event: contacts::Event) -> Task<Message> {
        match event {
            contacts::Event::OpenChat(conv) => self.open_chat(conv),
            contacts::Event::OpenHistory => self.open_history(None),
            contacts::Event::OpenGroupSettings(group) => self.open_group_settings(group),
            contacts::Event::Net(command) => {
                if let Command::FindUser { .. } = command
                    && let Some(model) = &mut self.model
                {
                    model.forget_found();
                }
                self.send(command);
                Task::none()
            }
            contacts::Event::SetLang(lang) => {
                self.settings.lang = lang;
                self.save_settings()
            }
            contacts::Event::SetTheme(pref) => {
                self.settings.theme = pref;
                self.save_settings()
            }
            contacts::Event::Pin(conv, on) => self.change_chats(|m| m.set_pinned(&conv, on)),
            contacts::Event::Mute(conv, on) => self.change_chats(|m| m.set_muted(&conv, on)),
            contacts::Event::FoldCategory(category, on) => {
                self.change_chats(|m| m.set_collapsed(category, on))
            }
            // Whether the server this app hosts starts again with the app.
            contacts::Event::Rehost(on) => {
                self.settings.host_again = match (on, &self.hosting) {
                    (true, Some(hosted)) => Some(hosted.request.clone()),
                    _ => None,
                };
                self.save_settings()
            }
            contacts::Event::AutoLogin(on) => self.set_auto_login(on),
            contacts::Event::StartWithOs(on) => self.set_start_with_os(on),
            contacts::Event::AutoPictures(mb) => {
                self.settings.auto_pictures_mb = mb;
                // A higher limit takes the pictures now within it, as new ones will be.
                let fetch = self.auto_download(None);
                Task::batch([self.save_settings(), fetch])
            }
            contacts::Event::SetNotify(prefs) => {
                self.settings.notifications = prefs.enabled;
                self.settings.notify_preview = prefs.preview;
                self.settings.notify_sound = prefs.sound;
                self.save_settings()
            }
            contacts::Event::PickAvatar => Task::perform(
                avatar::pick_file(self.tr().change_avatar.to_owned()),
                Message::AvatarPicked,
            ),
            contacts::Event::ResetAvatar => {
                self.set_local_avatar(None);
                if self.model.as_ref().is_some_and(|m| m.features.avatar) {
                    self.avatar_sent = true;
                    self.send(Command::SetAvatar { image: Vec::new() });
                }
                Task::perform(avatar::remove(self.avatar_dir()), |()| Message::Done)
            }
            contacts::Event::OpenAbout => self.open_about(),
            contacts::Event::Quit => self.shutdown(),
            contacts::Event::HideToTray => {
                self.settings.tray_told = true;
                let save = self.save_settings();
                Task::batch([save, self.hide_contacts()])
            }
            contacts::Event::DismissDeclined(account) => {
                let Some(model) = &mut self.model else {
                    return Task::none();
                };
                model.dismiss_declined(&account);
                if model.has_requests() {
                    Task::none()
                } else {
                    self.on_change(Change::RequestsEmptied)
                }
            }
        }
    }

    pub(super) fn on_chat_event(&mut self, id: window::Id, event: chat::Event) -> Task<Message> {
        match event {
            chat::Event::Send {
                conv,
                text,
                reply_to,
                mentions,
            } => {
                let command = if reply_to.is_some() || !mentions.is_empty() {
                    Command::SendReply {
                        conv: conv.clone(),
                        text,
                        reply_to,
                        mentions,
                    }
                } else {
                    Command::SendText {
                        conv: conv.clone(),
                        text,
                    }
                };
                self.send(command);
                self.scroll_to_end(&conv)
            }
            chat::Event::Delete { conv, local_id } => {
                if let Some(model) = &mut self.model {
                    model.forget_line(&conv, local_id);
                }
                match &self.client {
                    Some(client) => {
                        Task::perform(client.store().delete_message(local_id), move |r| {
                            Message::Deleted(conv.clone(), r.map(|_| ()).map_err(|e| e.to_string()))
                        })
                    }
                    None => Task::none(),
                }
            }
            chat::Event::Recall { id } => {
                self.send(Command::Recall { id });
                Task::none()
            }
            chat::Event::Typing { to } => {
                self.send(Command::Typing { to });
                Task::none()
            }
            chat::Event::Close => window::close(id),
            chat::Event::History(conv) => self.open_history(Some(conv)),
            chat::Event::Manage(command) => {
                self.send(command);
                Task::none()
            }
            chat::Event::OpenChat(conv) => self.open_chat(conv),
            chat::Event::GroupSettings(group) => self.open_group_settings(group),
            chat::Event::ReconnectNow => {
                self.send(Command::ReconnectNow);
                Task::none()
            }
            chat::Event::Retry { client_id } => {
                self.send(Command::Retry { client_id });
                Task::none()
            }
            chat::Event::LoadEarlier { conv } => self.load_history(&conv),
            chat::Event::PickFiles { conv } => Task::perform(
                crate::files::pick_files(self.tr().choose_files.to_owned()),
                move |paths| Message::FilesChosen(conv.clone(), paths),
            ),
            chat::Event::SendFiles { conv, paths } => self.check_files(conv, paths),
            chat::Event::File(action) => self.on_file_action(id, action),
            chat::Event::Copy(text) => iced::clipboard::write(text),
            chat::Event::CopyPicture(path) => {
                let keeper = self.clipboard.clone();
                let failed = self.tr().copy_failed;
                // Nothing to say when it worked, as with text; a failure is said above the input.
                Task::perform(
                    async move { keeper.write_image(path).await },
                    move |r| match r {
                        Ok(()) => Message::Chat(id, chat::Message::Shown),
                        Err(e) => {
                            Message::Chat(id, chat::Message::Notice(format!("{failed} ({e})")))
                        }
                    },
                )
            }
            chat::Event::PasteImage { conv } => {
                let keeper = self.clipboard.clone();
                Task::perform(async move { keeper.read_image().await }, move |read| {
                    Message::Pasted(id, conv.clone(), read.map_err(|e| e.to_string()))
                })
            }
            chat::Event::EmojiUsed(emoji) => {
                chat::emoji::remember(&mut self.settings.recent_emoji, &emoji);
                self.save_settings()
            }
            chat::Event::OpenLink(url) => Task::perform(crate::files::open_link(url), move |r| {
                Message::Launched(id, r.map_err(|e| e.to_string()))
            }),
        }
    }

    /// The settings dialog says why the avatar just picked did not take, or the autostart entry could not
    /// be written (`None`: it did).
    pub(super) fn settings_notice(&mut self, notice: Option<String>) {
        for window in self.windows.values_mut() {
            if let Window::Contacts(state) = window {
                state.avatar_notice(notice.clone());
            }
        }
    }

    /// A quote was clicked whose message was not loaded: once a page brings it, the chat scrolls to it;
    /// until then the next page is asked for, back to the beginning of the conversation.
    pub(super) fn continue_jump(&mut self, conv: &Conv) -> Task<Message> {
        let Some(id) = self.chat_window(conv) else {
            return Task::none();
        };
        let Some(Window::Chat(state)) = self.windows.get_mut(&id) else {
            return Task::none();
        };
        let (Some(target), Some(model)) = (state.jump, &self.model) else {
            return Task::none();
        };
        let Some(conversation) = model.conversations.get(conv) else {
            return Task::none();
        };
        if let Some(line) = conversation.lines.iter().find(|l| l.id == Some(target)) {
            state.jump = None;
            return state
                .show_message(line.client_id.clone())
                .map(move |m| Message::Chat(id, m));
        }
        match conversation.paging {
            crate::model::Paging::Loading => Task::none(),
            paging if paging.can_load() => self.load_history_back_to(conv, Some(target)),
            // The beginning is shown and it is not there (deleted on this device): nothing to show.
            _ => {
                state.jump = None;
                Task::none()
            }
        }
    }

    /// Loads the page before the oldest message shown: from local storage first (off the UI thread),
    /// then from the server once the local history runs out ([`Model::local_page`]).
    pub(super) fn load_history(&mut self, conv: &Conv) -> Task<Message> {
        self.load_history_back_to(conv, None)
    }

    /// [`App::load_history`], or, for a jump to the message the server numbered `target`, everything
    /// back to it in one read (with a page before it), rather than a read per page in between.
    fn load_history_back_to(&mut self, conv: &Conv, target: Option<u64>) -> Task<Message> {
        let Some(store) = self.client.as_ref().map(net::Client::store) else {
            return Task::none();
        };
        let Some(before) = self.model.as_mut().and_then(|m| m.start_page(conv)) else {
            return Task::none();
        };
        let page = crate::model::PAGE;
        let answered = conv.clone();
        let answer = move |page: Result<_, ququ_client::StorageError>| {
            Message::LocalPage(answered.clone(), page.map_err(|e| e.to_string()))
        };
        match target {
            Some(target) => Task::perform(
                store.messages_back_to(conv.clone(), before, target, page),
                answer,
            ),
            None => Task::perform(store.messages(conv.clone(), before, page), answer),
        }
    }

    /// Pins or mutes a chat, folds a friend group (or only notes the nickname), and keeps the account's
    /// choice in the settings file.
    pub(super) fn change_chats(&mut self, change: impl FnOnce(&mut Model)) -> Task<Message> {
        let Some(model) = &mut self.model else {
            return Task::none();
        };
        change(model);
        let key = Settings::chats_key(&model.account, &self.settings.server);
        let mut prefs = config::ChatPrefs::of(&model.pinned, &model.muted, &model.nickname);
        prefs.collapsed = model.collapsed.iter().copied().collect();
        self.settings.chats.insert(key, prefs);
        self.save_settings()
    }
}

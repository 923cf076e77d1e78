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
                // From a chat that jumped back, as in QQ: to the newest first, where it will show.
                let back = self.back_to_newest(&conv);
                self.send(command);
                Task::batch([back, self.scroll_to_end(&conv)])
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
            chat::Event::LoadNewer { conv } => self.load_newer(&conv),
            chat::Event::Jump { conv } => self.continue_jump(&conv),
            chat::Event::BackToNewest { conv } => self.back_to_newest(&conv),
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

    /// A quote or a search result was clicked whose message is not loaded: the local store's window
    /// around it replaces the chat's lines (one read, however far back it is: a jump 90,000 messages back
    /// used to load all 90,000), and once it is shown the chat scrolls to it. A message this device
    /// never stored (older than its history) is paged back for, through the server's history, as before.
    pub(super) fn continue_jump(&mut self, conv: &Conv) -> Task<Message> {
        let Some(id) = self.chat_window(conv) else {
            return Task::none();
        };
        let Some(Window::Chat(state)) = self.windows.get_mut(&id) else {
            return Task::none();
        };
        let (Some(target), Some(model)) = (state.jump, &mut self.model) else {
            return Task::none();
        };
        let Some(conversation) = model.conversations.get(conv) else {
            return Task::none();
        };
        if let Some(line) = conversation.lines.iter().find(|l| l.id == Some(target)) {
            state.jump = None;
            state.jump_paging = false;
            return state
                .show_message(line.client_id.clone())
                .map(move |m| Message::Chat(id, m));
        }
        let paging = conversation.paging;
        if !state.jump_paging {
            let Some(store) = self.client.as_ref().map(net::Client::store) else {
                return Task::none();
            };
            if !model.start_window(conv) {
                return Task::none();
            }
            let answered = conv.clone();
            let around = crate::model::AROUND;
            return Task::perform(
                store.messages_around(conv.clone(), target, around, around),
                move |page| {
                    Message::Window(answered.clone(), target, page.map_err(|e| e.to_string()))
                },
            );
        }
        match paging {
            crate::model::Paging::Loading => Task::none(),
            paging if paging.can_load() => self.load_history(conv),
            // The beginning is shown and it is not there (deleted on this device): nothing to show.
            _ => {
                state.jump = None;
                state.jump_paging = false;
                Task::none()
            }
        }
    }

    /// The window around a message jumped to arrived: shown, and scrolled to. Empty, the message is not
    /// on this device, and the pages back are asked for until the server's bring it.
    pub(super) fn on_window(
        &mut self,
        conv: Conv,
        target: u64,
        page: Result<Vec<net::Message>, String>,
    ) -> Task<Message> {
        let Some(model) = &mut self.model else {
            return Task::none();
        };
        let page = page.unwrap_or_else(|e| {
            eprintln!("ququ: cannot read the messages around {target}: {e}");
            Vec::new()
        });
        if !model.window_page(&conv, target, page)
            && let Some(Window::Chat(state)) = self
                .chat_window(&conv)
                .and_then(|id| self.windows.get_mut(&id))
        {
            state.jump_paging = true;
        }
        Task::batch([
            self.make_thumbnails(&conv),
            self.continue_jump(&conv),
            self.auto_download(Some(&conv)),
        ])
    }

    /// Loads the page before the oldest message shown: from local storage first (off the UI thread),
    /// then from the server once the local history runs out ([`Model::local_page`]).
    pub(super) fn load_history(&mut self, conv: &Conv) -> Task<Message> {
        let Some(store) = self.client.as_ref().map(net::Client::store) else {
            return Task::none();
        };
        let Some(before) = self.model.as_mut().and_then(|m| m.start_page(conv)) else {
            return Task::none();
        };
        let answered = conv.clone();
        Task::perform(
            store.messages(conv.clone(), before, crate::model::PAGE),
            move |page| Message::LocalPage(answered.clone(), page.map_err(|e| e.to_string())),
        )
    }

    /// Loads the page after the last message shown, in a chat that jumped back and was scrolled to the
    /// bottom of what it shows.
    pub(super) fn load_newer(&mut self, conv: &Conv) -> Task<Message> {
        let Some(store) = self.client.as_ref().map(net::Client::store) else {
            return Task::none();
        };
        let Some(after) = self.model.as_mut().and_then(|m| m.start_newer(conv)) else {
            return Task::none();
        };
        let answered = conv.clone();
        Task::perform(
            store.messages_after(conv.clone(), after, crate::model::PAGE),
            move |page| Message::NewerPage(answered.clone(), page.map_err(|e| e.to_string())),
        )
    }

    /// The next page down arrived: shown below, with the list kept where it was (it is anchored to the
    /// bottom, so what came below would otherwise push the lines being read up out of view): the line
    /// that was last goes near the top, the new ones under it.
    pub(super) fn on_newer_page(
        &mut self,
        conv: Conv,
        page: Result<Vec<net::Message>, String>,
    ) -> Task<Message> {
        let Some(model) = &mut self.model else {
            return Task::none();
        };
        let was_last = model
            .conversations
            .get(&conv)
            .and_then(|c| c.lines.last())
            .map(|l| l.client_id.clone());
        model.newer_page(
            &conv,
            page.inspect_err(|e| eprintln!("ququ: cannot read newer messages: {e}"))
                .ok(),
        );
        let keep_place = match (self.chat_window(&conv), was_last) {
            (Some(id), Some(client_id)) => match self.windows.get(&id) {
                Some(Window::Chat(state)) => state
                    .show_message(client_id)
                    .map(move |m| Message::Chat(id, m)),
                _ => Task::none(),
            },
            _ => Task::none(),
        };
        Task::batch([
            keep_place,
            self.make_thumbnails(&conv),
            self.continue_jump(&conv),
            self.auto_download(Some(&conv)),
        ])
    }

    /// "Back to newest" (回到最新消息) in a chat that jumped, or a message sent from it: the newest page
    /// is read again, and the list goes to its bottom.
    pub(super) fn back_to_newest(&mut self, conv: &Conv) -> Task<Message> {
        if !self.model.as_mut().is_some_and(|m| m.back_to_newest(conv)) {
            return Task::none();
        }
        if let Some(Window::Chat(state)) = self
            .chat_window(conv)
            .and_then(|id| self.windows.get_mut(&id))
        {
            state.jump = None;
            state.jump_paging = false;
        }
        Task::batch([self.load_history(conv), self.scroll_to_end(conv)])
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

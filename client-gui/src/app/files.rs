//! Files: checking and sending what the user picked or dropped, saving and opening received ones, the
//! transfers remembered from before a restart, and thumbnails of pictures.

use std::path::PathBuf;

use iced::{Task, window};
use ququ_protocol::Conv;

use super::{App, Message};
use crate::files;
use crate::model::{Transfer, TransferId, TransferState, human_size};
use crate::net::Command;
use crate::window::{about, chat};

impl App {
    /// Files to send to `conv` (picked, dropped or typed): each is checked on disk off the UI thread.
    pub(super) fn check_files(&mut self, conv: Conv, paths: Vec<PathBuf>) -> Task<Message> {
        let id = self.chat_window(&conv).unwrap_or(window::Id::unique());
        Task::batch(paths.into_iter().map(|path| {
            let conv = conv.clone();
            Task::perform(files::check(path), move |r| {
                Message::FileChecked(id, conv.clone(), r.map_err(|e| e.to_string()))
            })
        }))
    }

    /// The transfers in the local store, read at login, so bubbles show what happened before a restart.
    /// Without them the bubbles still show what the messages say (sent / not downloaded).
    pub(super) fn on_transfers_loaded(
        &mut self,
        loaded: Result<Vec<Transfer>, String>,
    ) -> Task<Message> {
        let Some(model) = &mut self.model else {
            return Task::none();
        };
        let convs = model.restore_transfers(loaded.unwrap_or_default());
        Task::batch(
            convs
                .iter()
                .map(|c| self.make_thumbnails(c))
                .collect::<Vec<_>>(),
        )
    }

    /// A chosen file passed its check: refuse it here if the server would (too large), else hand it to
    /// the client, which hashes, offers and uploads it, and show its bubble at once.
    pub(super) fn on_file_checked(
        &mut self,
        id: window::Id,
        conv: Conv,
        checked: Result<files::Chosen, String>,
    ) -> Task<Message> {
        let tr = self.tr();
        let lang = self.lang();
        let chosen = match checked {
            Ok(chosen) => chosen,
            Err(e) => {
                return self.chat_notice(id, format!("{} ({e})", tr.file_unreadable));
            }
        };
        let Some(model) = &self.model else {
            return Task::none();
        };
        if chosen.size > model.max_file {
            let limit = human_size(model.max_file);
            return self.chat_notice(id, lang.file_too_large(&chosen.name, &limit));
        }
        let Some(client) = &self.client else {
            return Task::none();
        };
        let client_id = client.send_file(conv.clone(), chosen.path.clone());
        // The bubble shows at once; the client's transfer events take it from here.
        if let Some(model) = &mut self.model {
            model.apply_transfer(Transfer {
                id: TransferId::Upload(client_id),
                conv: conv.clone(),
                file_id: None,
                name: chosen.name,
                size: chosen.size,
                sha256: String::new(),
                path: chosen.path,
                bytes: 0,
                state: TransferState::Offering,
            });
        }
        Task::batch([self.make_thumbnails(&conv), self.scroll_to_end(&conv)])
    }

    /// Starts a thumbnail for every picture in `conv` that is whole on this device and has none yet.
    pub(super) fn make_thumbnails(&mut self, conv: &Conv) -> Task<Message> {
        let Some(model) = &self.model else {
            return Task::none();
        };
        // Mine are whole from the start; a received one has a path only once its download is complete.
        let wanted: Vec<PathBuf> = model
            .conversations
            .get(conv)
            .into_iter()
            .flat_map(|c| c.lines.iter())
            .filter_map(|l| model.file(l))
            .filter(|f| f.item.is_image())
            .filter_map(|f| f.local.map(PathBuf::from))
            .filter(|p| !self.thumbs.contains_key(p) && !self.thumbs_pending.contains(p))
            .collect();
        let mut tasks = Vec::new();
        for path in wanted {
            if self.thumbs_pending.insert(path.clone()) {
                let key = path.clone();
                tasks.push(Task::perform(files::thumbnail(path), move |r| {
                    Message::Thumbnail(key.clone(), r.map_err(|e| e.to_string()))
                }));
            }
        }
        Task::batch(tasks)
    }

    /// Says what went wrong with a file in its chat window.
    fn chat_notice(&mut self, id: window::Id, text: String) -> Task<Message> {
        self.update(Message::Chat(id, chat::Message::Notice(text)))
    }

    pub(super) fn on_file_action(
        &mut self,
        id: window::Id,
        action: chat::FileAction,
    ) -> Task<Message> {
        use chat::FileAction as A;
        match action {
            A::Pause(key) => {
                self.send(Command::PauseTransfer(key));
                Task::none()
            }
            A::Resume(key) => {
                self.send(Command::ResumeTransfer(key));
                Task::none()
            }
            A::Cancel(key) => {
                self.send(Command::CancelTransfer(key));
                Task::none()
            }
            A::Reject { file_id } => {
                self.send(Command::RejectFile { file_id });
                Task::none()
            }
            A::Download { file_id, .. } => {
                // The client picks a free name there (`name (1).ext`) and reports the final path.
                self.send(Command::DownloadFile {
                    file_id,
                    dest: self.downloads.clone(),
                });
                Task::none()
            }
            A::SaveAs { file_id, .. } if !self.file_dialogs => {
                self.send(Command::DownloadFile {
                    file_id,
                    dest: self.downloads.clone(),
                });
                // Where that is takes a look at the file system: off the UI thread.
                Task::perform(
                    about::downloads_folder(self.downloads.clone(), self.dirs.clone()),
                    move |dir| Message::SavedToDownloads(id, dir),
                )
            }
            A::SaveAs { file_id, name } => Task::perform(
                files::pick_save(self.tr().save_file.to_owned(), name),
                move |dest| Message::SaveTo(file_id, dest),
            ),
            A::Open(path) => Task::perform(files::open(path), move |r| {
                Message::Launched(id, r.map_err(|e| e.to_string()))
            }),
            A::Reveal(path) => Task::perform(files::reveal(path), move |r| {
                Message::Launched(id, r.map_err(|e| e.to_string()))
            }),
        }
    }
}

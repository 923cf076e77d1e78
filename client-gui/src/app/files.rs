//! Files: checking and sending what the user picked, dropped or pasted, saving and opening received
//! ones, the transfers remembered from before a restart, thumbnails of pictures, pictures downloaded
//! as they are offered, and the picture viewer's Save as… and Copy.

use std::path::PathBuf;

use iced::{Task, window};
use ququ_protocol::Conv;

use super::{App, Message};
use crate::model::{Transfer, TransferId, TransferState, human_size};
use crate::net::Command;
use crate::window::{about, chat, viewer};
use crate::{clipboard, files};

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
        self.transfers_loaded = true;
        let mut tasks: Vec<_> = convs.iter().map(|c| self.make_thumbnails(c)).collect();
        tasks.push(self.auto_download(None));
        Task::batch(tasks)
    }

    /// Downloads, into the app's picture folder, the pictures in `only` (or in every conversation) that
    /// are no bigger than the settings allow, so they show inline without a click: those offered to me,
    /// and mine sent from another device of mine. Only those with no transfer here: one downloaded,
    /// failed, cancelled or rejected before is left as it is (a failed one shows why, with Retry). Only
    /// in chats with friends and groups of mine.
    pub(super) fn auto_download(&mut self, only: Option<&Conv>) -> Task<Message> {
        let limit = self.settings.auto_picture_limit();
        let Some(model) = &self.model else {
            return Task::none();
        };
        if limit == 0 || !self.transfers_loaded {
            return Task::none();
        }
        let wanted: Vec<u64> = model
            .conversations
            .iter()
            .filter(|(conv, _)| only.is_none_or(|o| o == *conv) && model.is_contact(conv))
            .flat_map(|(_, c)| c.lines.iter())
            .filter(|l| l.file.as_ref().is_some_and(|f| f.size <= limit))
            .filter_map(|l| model.picture_to_fetch(l))
            .filter(|id| !self.auto_asked.contains(id))
            .collect();
        if wanted.is_empty() {
            return Task::none();
        }
        self.auto_asked.extend(&wanted);
        // The client saves into a folder only if it exists (else it takes the path as a file name).
        let dir = self.dirs.pictures_dir(&model.account);
        Task::perform(
            async move {
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map(|()| dir)
                    .map_err(|e| e.to_string())
            },
            move |made| Message::PicturesFolder(wanted.clone(), made),
        )
    }

    /// The picture folder is ready: the pictures go there. If it cannot be made, they keep their cards
    /// with Download, and the chats showing them say why.
    pub(super) fn on_pictures_folder(
        &mut self,
        file_ids: Vec<u64>,
        made: Result<PathBuf, String>,
    ) -> Task<Message> {
        let dir = match made {
            Ok(dir) => dir,
            Err(e) => {
                let text = format!("{} ({e})", self.tr().file_failed);
                let chats: Vec<window::Id> = self
                    .windows
                    .iter()
                    .filter_map(|(&id, w)| match (w, &self.model) {
                        (super::Window::Chat(c), Some(m)) => m
                            .conversations
                            .get(&c.conv)
                            .is_some_and(|conv| {
                                conv.lines.iter().any(|l| {
                                    l.file
                                        .as_ref()
                                        .and_then(|f| f.file_id)
                                        .is_some_and(|f| file_ids.contains(&f))
                                })
                            })
                            .then_some(id),
                        _ => None,
                    })
                    .collect();
                return Task::batch(
                    chats
                        .into_iter()
                        .map(|id| self.chat_notice(id, text.clone()))
                        .collect::<Vec<_>>(),
                );
            }
        };
        for file_id in file_ids {
            self.send(Command::DownloadFile {
                file_id,
                dest: Some(dir.clone()),
            });
        }
        Task::none()
    }

    /// Ctrl+V in a chat found a picture on the clipboard (or could not read it): the picture is written
    /// as a PNG named for the moment, in the user's language, and sent like a picked file.
    pub(super) fn on_pasted(
        &mut self,
        id: window::Id,
        conv: Conv,
        pasted: Result<Option<image::RgbaImage>, String>,
    ) -> Task<Message> {
        let picture = match pasted {
            Ok(Some(picture)) => picture,
            // Text, or nothing: the editor did what there was to do.
            Ok(None) => return Task::none(),
            Err(e) => {
                let text = format!("{} ({e})", self.tr().clipboard_failed);
                return self.chat_notice(id, text);
            }
        };
        let Some(model) = &self.model else {
            return Task::none();
        };
        let dir = self.dirs.pictures_dir(&model.account);
        let name = clipboard::screenshot_name(self.lang());
        Task::perform(clipboard::save_png(picture, dir, name), move |saved| {
            Message::ScreenshotSaved(id, conv.clone(), saved.map_err(|e| e.to_string()))
        })
    }

    /// What the picture viewer asks for: a copy saved where the user picks, the picture on the
    /// clipboard, closing.
    pub(super) fn on_viewer_event(
        &mut self,
        id: window::Id,
        event: viewer::Event,
    ) -> Task<Message> {
        let said = move |m| Message::Viewer(id, m);
        match event {
            viewer::Event::Close => window::close(id),
            viewer::Event::Copy(path) => {
                let keeper = self.clipboard.clone();
                Task::perform(async move { keeper.write_image(path).await }, move |r| {
                    said(viewer::Message::Copied(r.map_err(|e| e.to_string())))
                })
            }
            viewer::Event::SaveAs { path, name } if self.file_dialogs => {
                let title = self.tr().save_file.to_owned();
                Task::perform(
                    async move {
                        match files::pick_save(title, name).await {
                            Some(to) => files::save_copy(path, to).await.map(Some),
                            None => Ok(None),
                        }
                    },
                    move |r| said(viewer::Message::Saved(r.map_err(|e| e.to_string()))),
                )
            }
            // No file dialog here: a copy goes to Downloads, and the viewer says where.
            viewer::Event::SaveAs { path, name } => {
                let (chosen, dirs) = (self.downloads.clone(), self.dirs.clone());
                Task::perform(
                    async move {
                        let dir = about::downloads_folder(chosen, dirs).await;
                        files::save_copy_into(path, dir, name).await.map(Some)
                    },
                    move |r| said(viewer::Message::Saved(r.map_err(|e| e.to_string()))),
                )
            }
        }
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
        // From a chat that jumped back, to the newest first (as a text is sent), where the bubble goes.
        let back = self.back_to_newest(&conv);
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
        Task::batch([back, self.make_thumbnails(&conv), self.scroll_to_end(&conv)])
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
    pub(super) fn chat_notice(&mut self, id: window::Id, text: String) -> Task<Message> {
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
            A::View { path, name } => self.open_viewer(path, name),
        }
    }
}

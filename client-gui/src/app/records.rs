//! The history window's questions: search or read the local store, open a chat at a result, export a
//! chat to a file.

use iced::{Size, Task, window};
use ququ_client::SearchFilter;
use ququ_protocol::Conv;

use super::{App, Message, Window};
use crate::export::{self, Entry, Format};
use crate::model::{Line, line_from, local_offset_minutes, now_millis};
use crate::window::{about, history};

impl App {
    /// Opens the history window on a chat (`Some`) or on all chats, or brings the one open on it to the
    /// front, with the cursor in its search field.
    pub fn open_history(&mut self, home: Option<Conv>) -> Task<Message> {
        let focus = iced::widget::operation::focus(history::State::search_id());
        if let Some((&id, _)) = self
            .windows
            .iter()
            .find(|(_, w)| matches!(w, Window::History(h) if h.home == home))
        {
            return window::gain_focus(id).chain(focus);
        }
        let (id, open) = window::open(window::Settings {
            size: Size::new(620.0, 640.0),
            min_size: Some(Size::new(460.0, 400.0)),
            ..super::windows::window_settings()
        });
        let (state, first) = history::State::new(home);
        self.windows.insert(id, Window::History(state));
        let ask = match first {
            Some(event) => self.on_history_event(id, event),
            None => Task::none(),
        };
        Task::batch([open.discard().chain(focus), ask])
    }

    pub(super) fn on_history_event(
        &mut self,
        id: window::Id,
        event: history::Event,
    ) -> Task<Message> {
        match event {
            history::Event::Find {
                asked,
                query,
                filter,
            } => {
                let Some(store) = self.client.as_ref().map(crate::net::Client::store) else {
                    return Task::none();
                };
                let answer =
                    move |r: Result<Vec<ququ_client::Message>, ququ_client::StorageError>| {
                        Message::History(
                            id,
                            history::Message::Found(asked, r.map_err(|e| e.to_string())),
                        )
                    };
                if query.trim().is_empty() {
                    Task::perform(store.browse(filter, history::LIMIT), answer)
                } else {
                    Task::perform(store.search_in(query, filter, history::LIMIT), answer)
                }
            }
            history::Event::Open { conv, server_id } => self.open_chat_at(conv, server_id),
            history::Event::Export { conv, format } => self.export(id, conv, format),
            history::Event::Close => window::close(id),
        }
    }

    /// Opens `conv` and shows the message, through the chat's jump (as a quote's click does): at once if
    /// its page is loaded, else once the local store's one read back to it (then the server's pages, if
    /// it is older than this device's history) brings it. One not sent yet has no server id; it is
    /// among the newest, where the chat opens.
    fn open_chat_at(&mut self, conv: Conv, server_id: Option<u64>) -> Task<Message> {
        let open = self.open_chat(conv.clone());
        let Some(target) = server_id else {
            return open;
        };
        if let Some(Window::Chat(state)) = self
            .chat_window(&conv)
            .and_then(|id| self.windows.get_mut(&id))
        {
            state.jump = Some(target);
        }
        Task::batch([open, self.continue_jump(&conv)])
    }

    /// Writes the whole of `conv` from the local store into the Downloads folder as `format`, and tells
    /// the history window `id` where it went.
    fn export(&mut self, id: window::Id, conv: Conv, format: Format) -> Task<Message> {
        let (Some(client), Some(model)) = (&self.client, &self.model) else {
            return Task::none();
        };
        let store = client.store();
        let lang = self.lang();
        let title = format!("{} - {}", lang.tr().history, model.conv_name(&conv));
        // What the export needs of the model (names, words, this device's copies of files), taken now:
        // the task runs off the UI thread.
        let model = model.clone();
        let (chosen, dirs) = (self.downloads.clone(), self.dirs.clone());
        let filter = SearchFilter {
            conv: Some(conv.clone()),
            ..SearchFilter::default()
        };
        Task::perform(
            async move {
                let messages = store
                    .browse(filter, u32::MAX)
                    .await
                    .map_err(|e| e.to_string())?;
                let offset = local_offset_minutes();
                let entries: Vec<Entry> = messages
                    .into_iter()
                    .map(|m| entry(&model, &conv, line_from(m), lang))
                    .collect();
                let contents = export::render(format, &title, &entries, offset);
                let name = export::file_name(&title, format, now_millis(), offset);
                let dir = about::downloads_folder(chosen, dirs).await;
                export::write(dir, name, contents)
                    .await
                    .map(|p| p.display().to_string())
            },
            move |done| Message::History(id, history::Message::Exported(done)),
        )
    }
}

/// One exported message: names and words as the chat shows them, and this device's copy of its file.
fn entry(model: &crate::model::Model, conv: &Conv, line: Line, lang: crate::i18n::Lang) -> Entry {
    let group = match conv {
        Conv::Group(g) => Some(*g),
        Conv::User(_) => None,
    };
    let file = model.file(&line);
    let local = file
        .as_ref()
        .and_then(|f| f.local.map(std::path::Path::to_path_buf));
    let picture = file.as_ref().is_some_and(|f| f.item.is_image());
    Entry {
        time: line.time,
        from: model.sender_name(group, &line.from),
        text: model.preview(conv, &line, lang),
        quote: line
            .quote
            .as_ref()
            .map(|q| (model.sender_name(group, &q.from), q.text.clone())),
        local,
        picture,
    }
}

//! The About window: the app's icon, name and version, and where it keeps its data on this computer —
//! chat history, settings, downloads and a hosted server's database — each with a button that opens
//! the folder.
//!
//! The places are the ones this run actually uses (`QUQU_HOME` included), read from the app's
//! [`Dirs`] when the window opens. The window never touches the disk: Open hands the folder up as an
//! [`Event`] and the app runs [`open_folder`] off the UI thread.

use std::path::{Path, PathBuf};

use iced::widget::{button, column, container, image, row, rule, scrollable, space, text};
use iced::{Center, Element, Fill};

use crate::config::Dirs;
use crate::i18n::Tr;
use crate::widget::Ctx;
use crate::{files, theme};

/// The version shown, from `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The app icon as drawn in the window (compiled in; the same file is the window icon).
pub const ICON_PNG: &[u8] = include_bytes!("../../../assets/icons/ququ.png");

/// What a place on disk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// The headless client's database: messages, the outbox, transfers.
    History,
    /// The settings file (server, last account, language, theme).
    Settings,
    /// Where Download puts received files.
    Downloads,
    /// The database and files of the server this app hosts.
    Server,
}

impl PlaceKind {
    pub fn label(self, tr: &Tr) -> &'static str {
        match self {
            PlaceKind::History => tr.place_history,
            PlaceKind::Settings => tr.settings,
            PlaceKind::Downloads => tr.place_downloads,
            PlaceKind::Server => tr.place_server,
        }
    }
}

/// One place: what is shown, and the folder Open opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub kind: PlaceKind,
    pub path: PathBuf,
    pub folder: PathBuf,
}

impl Place {
    fn at(kind: PlaceKind, path: PathBuf) -> Place {
        Place {
            kind,
            folder: path.clone(),
            path,
        }
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub places: Vec<Place>,
    /// Why the last Open failed, if it did.
    pub notice: Option<String>,
    logo: image::Handle,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Open(PathBuf),
    /// Opening a folder finished (it failed if `Err`).
    Opened(Result<(), String>),
    /// Where downloads go, once looked up (the OS's Downloads folder is found off the UI thread).
    Downloads(PathBuf),
    Close,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open(PathBuf),
    Close,
}

impl State {
    /// The places of this run. `downloads` is where Download saves, if already known (else it shows
    /// once [`Message::Downloads`] arrives); `hosting` adds the hosted server's folder.
    pub fn new(dirs: &Dirs, downloads: Option<PathBuf>, hosting: bool) -> State {
        let mut places = vec![
            Place::at(PlaceKind::History, dirs.client_dir()),
            Place {
                kind: PlaceKind::Settings,
                path: dirs.settings_file(),
                folder: dirs.config.clone(),
            },
        ];
        if let Some(downloads) = downloads {
            places.push(Place::at(PlaceKind::Downloads, downloads));
        }
        if hosting {
            places.push(Place::at(PlaceKind::Server, dirs.server_dir()));
        }
        State {
            places,
            notice: None,
            logo: image::Handle::from_bytes(ICON_PNG),
        }
    }

    pub fn place(&self, kind: PlaceKind) -> Option<&Place> {
        self.places.iter().find(|p| p.kind == kind)
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Open(folder) => {
                self.notice = None;
                return Some(Event::Open(folder));
            }
            Message::Opened(result) => self.notice = result.err(),
            Message::Downloads(path) => {
                self.places.retain(|p| p.kind != PlaceKind::Downloads);
                // After the settings, before a hosted server: the order of the list never jumps.
                let at = self
                    .places
                    .iter()
                    .position(|p| p.kind == PlaceKind::Server)
                    .unwrap_or(self.places.len());
                self.places
                    .insert(at, Place::at(PlaceKind::Downloads, path));
            }
            Message::Close => return Some(Event::Close),
        }
        None
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let tr = ctx.tr();

        // The blue band, as on the login window: icon, name, version.
        let header = container(
            column![
                image(self.logo.clone()).width(72).height(72),
                text(tr.app_name).size(22),
                text(ctx.lang.version(VERSION)).size(13),
            ]
            .spacing(6)
            .align_x(Center),
        )
        .width(Fill)
        .padding([20, 0])
        .align_x(Center)
        .style(theme::header);

        let mut list = column![];
        for (i, place) in self.places.iter().enumerate() {
            if i > 0 {
                list = list.push(rule::horizontal(1).style(divider));
            }
            list = list.push(
                row![
                    column![
                        text(place.kind.label(tr)).size(14),
                        text(display(&place.path))
                            .size(12)
                            .style(theme::muted_text)
                            .wrapping(text::Wrapping::WordOrGlyph),
                    ]
                    .spacing(3)
                    .width(Fill),
                    button(text(tr.open).size(12))
                        .padding([4, 14])
                        .style(theme::secondary_button)
                        .on_press(Message::Open(place.folder.clone())),
                ]
                .spacing(12)
                .align_y(Center)
                .padding([10, 12]),
            );
        }

        // The text scrolls if it ever outgrows the window (a long error under the list, large fonts);
        // Close stays put at the bottom.
        let content = column![
            text(tr.about_summary).size(13),
            text(tr.data_places).size(14),
            container(list).width(Fill).style(theme::card),
        ]
        .push(self.notice.as_deref().map(|e| {
            text(format!("{} ({e})", tr.cannot_open))
                .size(12)
                .style(theme::error_text)
        }))
        .push(text(tr.about_license).size(12).style(theme::muted_text))
        .spacing(10);
        let body = column![
            scrollable(content).height(Fill),
            row![
                space().width(Fill),
                button(text(tr.close).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Close)
            ],
        ]
        .spacing(10);

        column![
            header,
            container(body)
                .padding([16, 20])
                .height(Fill)
                .style(theme::surface),
        ]
        .into()
    }
}

/// The rules between places: the card's own border colour, not the theme's stronger default.
fn divider(theme: &iced::Theme) -> rule::Style {
    rule::Style {
        color: theme::divider(theme),
        radius: 0.0.into(),
        fill_mode: rule::FillMode::Full,
        snap: true,
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Where Download saves when no folder was chosen: the client's own rule (the OS's Downloads folder, else
/// `downloads` in the history folder). Looks at the file system: run it off the UI thread.
pub async fn downloads_folder(chosen: Option<PathBuf>, dirs: Dirs) -> PathBuf {
    chosen.unwrap_or_else(|| ququ_client::transfer::default_download_dir(&dirs.client_dir()))
}

/// Opens a folder in the OS file manager, making it first if it does not exist yet (a fresh Downloads
/// fallback, say) so the file manager does not just complain.
pub async fn open_folder(folder: PathBuf) -> Result<(), String> {
    tokio::fs::create_dir_all(&folder)
        .await
        .map_err(|e| e.to_string())?;
    files::open(folder).await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> Dirs {
        Dirs {
            config: PathBuf::from("/home/u/.config/ququ"),
            data: PathBuf::from("/home/u/.local/share/ququ"),
        }
    }

    #[test]
    fn places_follow_the_dirs_in_use() {
        let mut state = State::new(&dirs(), None, true);
        let kinds: Vec<_> = state.places.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [PlaceKind::History, PlaceKind::Settings, PlaceKind::Server]
        );
        let settings = state.place(PlaceKind::Settings).unwrap();
        assert_eq!(
            settings.path,
            PathBuf::from("/home/u/.config/ququ/gui.json")
        );
        assert_eq!(settings.folder, PathBuf::from("/home/u/.config/ququ"));
        assert_eq!(
            state.place(PlaceKind::Server).unwrap().path,
            PathBuf::from("/home/u/.local/share/ququ/server")
        );

        // The Downloads folder arrives later and lands before the server, once.
        for _ in 0..2 {
            state.update(Message::Downloads("/home/u/Downloads".into()));
        }
        let kinds: Vec<_> = state.places.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                PlaceKind::History,
                PlaceKind::Settings,
                PlaceKind::Downloads,
                PlaceKind::Server
            ]
        );

        let open = state.update(Message::Open("/home/u/Downloads".into()));
        assert_eq!(open, Some(Event::Open("/home/u/Downloads".into())));
        state.update(Message::Opened(Err("no file manager".into())));
        assert_eq!(state.notice.as_deref(), Some("no file manager"));
        assert_eq!(state.update(Message::Close), Some(Event::Close));

        let not_hosting = State::new(&dirs(), Some("/d".into()), false);
        assert!(not_hosting.place(PlaceKind::Server).is_none());
        assert_eq!(
            not_hosting.place(PlaceKind::Downloads).unwrap().path,
            PathBuf::from("/d")
        );
    }

    #[tokio::test]
    async fn a_chosen_downloads_folder_wins() {
        let chosen = downloads_folder(Some("/chosen".into()), dirs()).await;
        assert_eq!(chosen, PathBuf::from("/chosen"));
    }
}

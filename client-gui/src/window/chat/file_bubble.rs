//! A file in a chat: a card with a type tile (or the picture itself, for images), the name, the size and
//! where the file stands, with a progress bar and Pause / Resume / Cancel while bytes move, Download /
//! Save as / Reject for an offer to me, and Open / Show in folder once it is on this device. Where it
//! stands is worked out from the transfers as it is drawn ([`crate::model::Model::file`]).

use std::path::PathBuf;

use iced::widget::{
    button, column, container, image as image_widget, progress_bar, row, space, text,
};
use iced::{Center, Color, Element, Fill, color};

use super::Message;
use crate::i18n::Lang;
use crate::model::{FileState, FileView, TransferId, human_size};
use crate::theme;
use crate::widget::Ctx;

/// Width of a file bubble: room for a long name on two lines and the action links on one.
const FILE_CARD_WIDTH: f32 = 290.0;

/// A button on a file bubble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAction {
    Pause(TransferId),
    Resume(TransferId),
    Cancel(TransferId),
    /// Into the Downloads folder.
    Download {
        file_id: u64,
        name: String,
    },
    /// Somewhere the user picks.
    SaveAs {
        file_id: u64,
        name: String,
    },
    Reject {
        file_id: u64,
    },
    Open(PathBuf),
    Reveal(PathBuf),
    /// A picture clicked: open it in the viewer, titled with its name.
    View {
        path: PathBuf,
        name: String,
    },
}

/// A file bubble: picture or type tile, name, size, state, progress and actions.
pub fn view<'a>(ctx: &Ctx<'a>, file: FileView<'a>, mine: bool) -> Element<'a, Message> {
    let tr = ctx.tr();
    let key = file.key.clone();
    let local: Option<PathBuf> = file.local.map(PathBuf::from);
    let thumb = local
        .as_ref()
        .filter(|_| file.item.is_image())
        .and_then(|path| ctx.thumbs.get(path));

    let name = text(file.item.name.as_str())
        .size(14)
        .wrapping(text::Wrapping::WordOrGlyph);
    let size = text(human_size(file.item.size))
        .size(12)
        .style(theme::muted_text);
    let mut card = column![].spacing(8).width(FILE_CARD_WIDTH);
    if let Some(handle) = thumb {
        // The picture stands in for the tile; clicking it opens the viewer, as QQ does.
        let picture = image_widget(handle.clone())
            .width(Fill)
            .height(iced::Length::Shrink)
            .border_radius(6.0);
        let picture: Element<'a, Message> = match (&local, &file.state) {
            (Some(path), FileState::Saved | FileState::Sent | FileState::DeliveredToPeer) => {
                button(picture)
                    .padding(0)
                    .style(|_, _| button::Style::default())
                    .on_press(Message::File(FileAction::View {
                        path: path.clone(),
                        name: file.item.name.clone(),
                    }))
                    .into()
            }
            _ => picture.into(),
        };
        let mut picture = container(picture).max_height(240).clip(true);
        if let Some(file_id) = file.file_id {
            picture = picture.id(super::State::picture_id(file_id));
        }
        card = card.push(picture);
        card = card.push(
            row![name, space().width(Fill), size]
                .spacing(8)
                .align_y(Center),
        );
    } else {
        card = card.push(
            row![
                file_tile(&file.item.name),
                column![name, size].spacing(2).width(Fill)
            ]
            .spacing(10)
            .align_y(Center),
        );
    }
    if let Some(progress) = file.progress() {
        let paused = file.state.is_paused();
        card = card.push(
            progress_bar(0.0..=1.0, progress)
                .girth(4)
                .style(theme::transfer_progress(paused)),
        );
    }

    let (label, failed) = state_label(ctx.lang, &file, mine);
    let mut actions = row![].spacing(12).align_y(Center);
    let link = |label: &'static str, message: Message| {
        button(text(label).size(12))
            .padding(0)
            .style(theme::link)
            .on_press(message)
    };
    let open_links = |actions: iced::widget::Row<'a, Message>| match &local {
        Some(path) => actions
            .push(link(tr.open, Message::File(FileAction::Open(path.clone()))))
            .push(link(
                tr.show_in_folder,
                Message::File(FileAction::Reveal(path.clone())),
            )),
        None => actions,
    };
    match (&file.state, file.file_id) {
        (FileState::Uploading { paused, .. } | FileState::Downloading { paused, .. }, _) => {
            if let Some(key) = key {
                actions = actions
                    .push(if *paused {
                        link(tr.resume, Message::File(FileAction::Resume(key.clone())))
                    } else {
                        link(tr.pause, Message::File(FileAction::Pause(key.clone())))
                    })
                    .push(link(tr.cancel, Message::File(FileAction::Cancel(key))));
            }
        }
        (FileState::Offered, Some(file_id)) => {
            actions = actions
                .push(link(
                    tr.download,
                    Message::File(FileAction::Download {
                        file_id,
                        name: file.item.name.clone(),
                    }),
                ))
                .push(link(
                    tr.save_as,
                    Message::File(FileAction::SaveAs {
                        file_id,
                        name: file.item.name.clone(),
                    }),
                ))
                .push(link(
                    tr.reject,
                    Message::File(FileAction::Reject { file_id }),
                ));
        }
        // The client resumes a failed transfer where it stopped, in either direction.
        (FileState::Failed(_), _) => {
            if let Some(key) = key {
                actions = actions.push(link(tr.retry, Message::File(FileAction::Resume(key))));
            }
        }
        (FileState::Saved | FileState::Sent | FileState::DeliveredToPeer, _) => {
            actions = open_links(actions);
        }
        _ => {}
    }
    card = card.push(
        row![
            text(label)
                .size(12)
                .style(if failed {
                    theme::error_text
                } else {
                    theme::muted_text
                })
                .width(Fill),
            actions
        ]
        .spacing(8)
        .align_y(Center),
    );
    container(card)
        .padding([10, 12])
        .style(theme::file_card)
        .into()
}

/// Where a file stands, in words, and whether that is bad news.
fn state_label(lang: Lang, file: &FileView<'_>, mine: bool) -> (String, bool) {
    let tr = lang.tr();
    let percent = (file.progress().unwrap_or(0.0) * 100.0).floor() as u32;
    match &file.state {
        FileState::Uploading { paused: true, .. } | FileState::Downloading { paused: true, .. } => {
            (lang.paused_at(percent), false)
        }
        FileState::Uploading { .. } => (lang.uploading(percent), false),
        FileState::Downloading { .. } => (lang.downloading(percent), false),
        FileState::Sent => (tr.file_sent.to_owned(), false),
        FileState::DeliveredToPeer => (tr.file_delivered.to_owned(), false),
        FileState::Offered => (tr.file_offered.to_owned(), false),
        FileState::Saved => (tr.file_saved.to_owned(), false),
        FileState::Rejected if mine => (tr.file_rejected_by_peer.to_owned(), true),
        FileState::Rejected => (tr.file_rejected.to_owned(), false),
        FileState::Cancelled => (tr.file_cancelled.to_owned(), false),
        FileState::Expired => (tr.file_expired.to_owned(), false),
        FileState::Failed(why) if why.is_empty() => (tr.file_failed.to_owned(), true),
        FileState::Failed(why) => (lang.file_failed_because(why), true),
    }
}

/// The file-type tile: the extension in white on the type's colour, like a file manager's icon.
fn file_tile<'a>(name: &str) -> Element<'a, Message> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_uppercase())
        .filter(|e| !e.is_empty() && e.len() <= 4 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    let tint = tile_color(ext.as_deref().unwrap_or(""));
    let label = ext.unwrap_or_else(|| "FILE".to_owned());
    let size = if label.len() > 3 { 11 } else { 13 };
    container(text(label).size(size))
        .center_x(44)
        .center_y(52)
        .style(theme::file_icon(tint))
        .into()
}

/// Colours by kind, the ones people know from office suites: red PDF, blue documents, green sheets,
/// orange slides and archives, purple media.
fn tile_color(ext: &str) -> Color {
    match ext {
        "PDF" => color!(0xe5484d),
        "DOC" | "DOCX" | "TXT" | "MD" | "RTF" | "ODT" => color!(0x3d7bfd),
        "XLS" | "XLSX" | "CSV" | "ODS" => color!(0x21a35a),
        "PPT" | "PPTX" | "KEY" | "ODP" => color!(0xf0883e),
        "ZIP" | "RAR" | "7Z" | "GZ" | "TAR" | "XZ" => color!(0xd9a514),
        "PNG" | "JPG" | "JPEG" | "GIF" | "WEBP" | "BMP" | "SVG" => color!(0x20b2aa),
        "MP3" | "WAV" | "FLAC" | "MP4" | "MOV" | "AVI" | "MKV" => color!(0x8e6cef),
        _ => color!(0x7d8590),
    }
}

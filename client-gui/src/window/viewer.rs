//! A picture viewer: one window per picture clicked in a chat, titled with its file name.
//!
//! The picture fits the window at first (never blown up past its own size); Zoom in / Zoom out (the
//! buttons, `+` / `-`, or Ctrl with the mouse wheel) go in steps of a quarter from there, 1:1 shows it
//! at its own size, Fit goes back. Save as… and Copy are the app's to do (a file dialog, the
//! clipboard); Esc closes the window. The picture is decoded off the UI thread by the app
//! ([`crate::files::picture`]); an animated GIF shows its first frame, and the viewer says so.

use std::path::PathBuf;

use iced::widget::{
    button, column, container, image as image_widget, mouse_area, row, scrollable, space, text,
};
use iced::{Center, ContentFit, Element, Fill, Size};

use crate::files::Picture;
use crate::theme;
use crate::widget::Ctx;

/// Zoom steps multiply or divide by this.
const STEP: f32 = 1.25;
/// The zoom stays within these, as a fraction of the picture's own size.
const MIN_ZOOM: f32 = 0.05;
const MAX_ZOOM: f32 = 16.0;
/// Height of the toolbar above the picture, and the margin around it, taken from the window's size to
/// find the room the picture has.
const TOOLBAR: f32 = 48.0;
const MARGIN: f32 = 16.0;

#[derive(Debug)]
pub struct State {
    pub path: PathBuf,
    pub name: String,
    picture: Loading,
    /// `None`: fit to the window.
    zoom: Option<f32>,
    /// The window's inner size, to know the fitted scale that zooming starts from.
    size: Size,
    /// Ctrl is held: the wheel zooms instead of scrolling.
    ctrl: bool,
    /// What the last Save as… or Copy did.
    notice: Option<Notice>,
}

/// What the last Save as… or Copy did, said in the toolbar.
#[derive(Debug)]
enum Notice {
    SavedTo(PathBuf),
    Copied,
    Failed(String),
}

#[derive(Debug)]
enum Loading {
    Waiting,
    Shown {
        handle: image_widget::Handle,
        width: u32,
        height: u32,
        animated: bool,
    },
    Failed(String),
}

#[derive(Debug, Clone)]
pub enum Message {
    /// The picture decoded, or why it could not be.
    Loaded(Result<Picture, String>),
    ZoomIn,
    ZoomOut,
    Fit,
    ActualSize,
    /// The mouse wheel over the picture, lines or pixels up (positive) or down.
    Wheel(f32),
    /// Ctrl went down or up.
    Ctrl(bool),
    Resized(Size),
    SaveAs,
    Copy,
    /// Save as… finished: where the copy went (`Ok(None)`: the dialog was cancelled).
    Saved(Result<Option<PathBuf>, String>),
    Copied(Result<(), String>),
    Close,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Ask where to save a copy of the picture, and make it.
    SaveAs {
        path: PathBuf,
        name: String,
    },
    /// Put the picture on the clipboard.
    Copy(PathBuf),
    Close,
}

impl State {
    pub fn new(path: PathBuf, name: String, size: Size) -> State {
        State {
            path,
            name,
            picture: Loading::Waiting,
            zoom: None,
            size,
            ctrl: false,
            notice: None,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Loaded(Ok(picture)) => {
                let (width, height) = picture.image.dimensions();
                self.picture = Loading::Shown {
                    handle: image_widget::Handle::from_rgba(
                        width,
                        height,
                        picture.image.into_raw(),
                    ),
                    width,
                    height,
                    animated: picture.animated,
                };
            }
            Message::Loaded(Err(e)) => self.picture = Loading::Failed(e),
            Message::ZoomIn => self.zoom_by(STEP),
            Message::ZoomOut => self.zoom_by(1.0 / STEP),
            Message::Wheel(up) if self.ctrl && up > 0.0 => self.zoom_by(STEP),
            Message::Wheel(up) if self.ctrl && up < 0.0 => self.zoom_by(1.0 / STEP),
            Message::Wheel(_) => {}
            Message::Fit => self.zoom = None,
            Message::ActualSize => self.zoom = Some(1.0),
            Message::Ctrl(held) => self.ctrl = held,
            Message::Resized(size) => self.size = size,
            Message::SaveAs => {
                self.notice = None;
                return Some(Event::SaveAs {
                    path: self.path.clone(),
                    name: self.name.clone(),
                });
            }
            Message::Copy => {
                self.notice = None;
                return Some(Event::Copy(self.path.clone()));
            }
            Message::Saved(Ok(None)) => {}
            Message::Saved(Ok(Some(to))) => self.notice = Some(Notice::SavedTo(to)),
            Message::Saved(Err(e)) | Message::Copied(Err(e)) => {
                self.notice = Some(Notice::Failed(e));
            }
            Message::Copied(Ok(())) => self.notice = Some(Notice::Copied),
            Message::Close => return Some(Event::Close),
        }
        None
    }

    /// The scale the picture is drawn at now: the chosen zoom, or what fits the window (at most 1).
    pub fn scale(&self) -> Option<f32> {
        let Loading::Shown { width, height, .. } = self.picture else {
            return None;
        };
        Some(self.zoom.unwrap_or_else(|| {
            let room_w = (self.size.width - 2.0 * MARGIN).max(1.0);
            let room_h = (self.size.height - TOOLBAR - 2.0 * MARGIN).max(1.0);
            (room_w / width as f32).min(room_h / height as f32).min(1.0)
        }))
    }

    fn zoom_by(&mut self, factor: f32) {
        if let Some(scale) = self.scale() {
            self.zoom = Some((scale * factor).clamp(MIN_ZOOM, MAX_ZOOM));
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let tr = ctx.tr();
        let shown = matches!(self.picture, Loading::Shown { .. });
        let tool = |label: &'static str, message: Message| {
            button(text(label).size(13))
                .padding([5, 10])
                .style(theme::list_item)
                .on_press_maybe(shown.then_some(message))
        };
        let percent = self
            .scale()
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or_default();
        let notice: Element<'a, Message> = match &self.notice {
            Some(Notice::Failed(why)) => {
                text(why.as_str()).size(12).style(theme::error_text).into()
            }
            Some(Notice::Copied) => text(tr.copied).size(12).style(theme::muted_text).into(),
            Some(Notice::SavedTo(path)) => text(ctx.lang.saved_at(&path.display().to_string()))
                .size(12)
                .style(theme::muted_text)
                .into(),
            None => match self.picture {
                Loading::Shown { animated: true, .. } => text(tr.gif_first_frame)
                    .size(12)
                    .style(theme::muted_text)
                    .into(),
                _ => space().into(),
            },
        };
        let toolbar = row![
            tool(tr.zoom_out, Message::ZoomOut),
            container(text(percent).size(12).style(theme::muted_text)).center_x(48),
            tool(tr.zoom_in, Message::ZoomIn),
            tool(tr.fit, Message::Fit),
            tool(tr.actual_size, Message::ActualSize),
            container(notice).width(Fill).padding([0, 8]).clip(true),
            tool(tr.copy, Message::Copy),
            tool(tr.save_as, Message::SaveAs),
        ]
        .spacing(4)
        .padding([6, 8])
        .height(TOOLBAR)
        .align_y(Center);

        let body: Element<'a, Message> = match &self.picture {
            Loading::Waiting => container(text(tr.picture_loading).style(theme::muted_text))
                .center(Fill)
                .into(),
            Loading::Failed(why) => container(
                text(format!("{} ({why})", tr.picture_unreadable))
                    .style(theme::error_text)
                    .width(Fill)
                    .align_x(Center),
            )
            .padding(MARGIN)
            .center(Fill)
            .into(),
            Loading::Shown {
                handle,
                width,
                height,
                ..
            } => {
                let scale = self.scale().unwrap_or(1.0);
                let (w, h) = (*width as f32 * scale, *height as f32 * scale);
                let picture = image_widget(handle.clone())
                    .width(w)
                    .height(h)
                    .content_fit(ContentFit::Fill)
                    // Sharp pixels when zoomed in past the picture's own size, as viewers do.
                    .filter_method(if scale > 1.0 {
                        image_widget::FilterMethod::Nearest
                    } else {
                        image_widget::FilterMethod::Linear
                    });
                // Centred while it fits; scrolled both ways once it is bigger than the window.
                let area: Element<'a, Message> = if self.zoom.is_some()
                    && (w + 2.0 * MARGIN > self.size.width
                        || h + 2.0 * MARGIN > self.size.height - TOOLBAR)
                {
                    scrollable(container(picture).padding(MARGIN))
                        .direction(scrollable::Direction::Both {
                            vertical: scrollable::Scrollbar::default(),
                            horizontal: scrollable::Scrollbar::default(),
                        })
                        .width(Fill)
                        .height(Fill)
                        .into()
                } else {
                    container(picture).center(Fill).padding(MARGIN).into()
                };
                // Ctrl+wheel zooms; without Ctrl the wheel is left to the scrollable.
                let area = mouse_area(area);
                if self.ctrl {
                    area.on_scroll(|delta| {
                        Message::Wheel(match delta {
                            iced::mouse::ScrollDelta::Lines { y, .. }
                            | iced::mouse::ScrollDelta::Pixels { y, .. } => y,
                        })
                    })
                    .into()
                } else {
                    area.into()
                }
            }
        };
        column![
            container(toolbar).width(Fill).style(theme::surface),
            iced::widget::rule::horizontal(1),
            container(body)
                .width(Fill)
                .height(Fill)
                .style(theme::chat_area),
        ]
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(width: u32, height: u32) -> State {
        let mut state = State::new("p.png".into(), "p.png".into(), Size::new(832.0, 648.0));
        state.update(Message::Loaded(Ok(Picture {
            image: image::RgbaImage::new(width, height),
            animated: false,
        })));
        state
    }

    #[test]
    fn fits_never_enlarges_and_zooms_from_the_fitted_size() {
        // 800 × 584 of room: a 1600 × 400 picture fits at half its size.
        let mut big = shown(1600, 400);
        assert_eq!(big.scale(), Some(0.5));
        big.update(Message::ZoomIn);
        assert_eq!(big.scale(), Some(0.625));
        big.update(Message::ActualSize);
        assert_eq!(big.scale(), Some(1.0));
        big.update(Message::Fit);
        assert_eq!(big.scale(), Some(0.5));
        // A small one is shown at its own size, not blown up.
        assert_eq!(shown(40, 30).scale(), Some(1.0));
    }

    #[test]
    fn the_wheel_zooms_only_with_ctrl() {
        let mut state = shown(100, 100);
        state.update(Message::Wheel(1.0));
        assert_eq!(state.scale(), Some(1.0));
        state.update(Message::Ctrl(true));
        state.update(Message::Wheel(1.0));
        assert_eq!(state.scale(), Some(1.25));
        state.update(Message::Wheel(-1.0));
        assert_eq!(state.scale(), Some(1.0));
    }
}

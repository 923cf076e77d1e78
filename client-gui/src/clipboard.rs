//! Pictures on the system clipboard, through `arboard`: Ctrl+V of a screenshot in a chat, and the
//! picture viewer's Copy. Text stays with iced's own clipboard, as before (it carries text only).
//!
//! On Linux arboard speaks X11 — under a Wayland desktop, through XWayland, which bridges the clipboard
//! both ways on GNOME, KDE and wlroots alike; its `wayland-data-control` feature is left off, as GNOME
//! does not offer that protocol and X11 is needed there anyway.
//!
//! Every call blocks (the X server is asked and answers), so each runs on a blocking thread. What is
//! put on the clipboard on X11 is served by the process that put it there for as long as it lives, so
//! the app keeps one [`Keeper`] for its whole run instead of a clipboard per copy (dropping the last
//! one hands the picture to a clipboard manager if there is one, and loses it if not).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What went wrong with the clipboard or the picture, in words for the chat or the viewer.
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    #[error("{0}")]
    Clipboard(#[from] arboard::Error),
    #[error("the clipboard's picture has the wrong size ({width}×{height})")]
    BadImage { width: usize, height: usize },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the picture: {0}")]
    Encode(#[from] image::ImageError),
    #[error(transparent)]
    Files(#[from] crate::files::FilesError),
    #[error("the background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The app's one connection to the system clipboard, opened at the first use and kept (see the module
/// docs). Cloning shares it.
#[derive(Clone, Default)]
pub struct Keeper(Arc<Mutex<Option<arboard::Clipboard>>>);

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keeper")
    }
}

impl Keeper {
    /// Runs `f` on the clipboard, opening it first if needed, on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut arboard::Clipboard) -> Result<T, ClipboardError> + Send + 'static,
    ) -> Result<T, ClipboardError> {
        let shared = self.0.clone();
        tokio::task::spawn_blocking(move || {
            // A panic on another clipboard call poisons the lock; the clipboard itself is still fine.
            let mut held = shared.lock().unwrap_or_else(|e| e.into_inner());
            let clipboard = match held.as_mut() {
                Some(clipboard) => clipboard,
                None => held.insert(arboard::Clipboard::new()?),
            };
            f(clipboard)
        })
        .await?
    }

    /// The picture on the clipboard, if it holds one and no text. Text is the editor's to paste (it
    /// already has when this runs), and an app that copies both — a spreadsheet's cells come with a
    /// picture of them — means the text.
    pub async fn read_image(&self) -> Result<Option<image::RgbaImage>, ClipboardError> {
        self.with(|clipboard| {
            if clipboard
                .get_text()
                .is_ok_and(|text| !text.trim().is_empty())
            {
                return Ok(None);
            }
            match clipboard.get_image() {
                Ok(picture) => {
                    let (width, height) = (picture.width, picture.height);
                    let pixels = picture.bytes.into_owned();
                    image::RgbaImage::from_raw(width as u32, height as u32, pixels)
                        .map(Some)
                        .ok_or(ClipboardError::BadImage { width, height })
                }
                // Nothing, or nothing that is a picture: not a failure.
                Err(arboard::Error::ContentNotAvailable) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Puts the picture in `path` on the clipboard, as pixels (what other apps paste).
    pub async fn write_image(&self, path: PathBuf) -> Result<(), ClipboardError> {
        let picture = crate::files::picture(path).await?;
        self.with(move |clipboard| {
            let (width, height) = picture.image.dimensions();
            clipboard.set_image(arboard::ImageData {
                width: width as usize,
                height: height as usize,
                bytes: picture.image.into_raw().into(),
            })?;
            Ok(())
        })
        .await
    }
}

/// The name a pasted picture is sent under: `Screenshot 2026-12-06 153012.png` in the user's language,
/// at this moment's local time.
pub fn screenshot_name(lang: crate::i18n::Lang) -> String {
    let stamp = chrono::Local::now().format("%Y-%m-%d %H%M%S").to_string();
    lang.screenshot_name(&stamp)
}

/// Writes a pasted picture as a PNG file named `name` in `dir` (made if missing; a name taken already
/// gets a number), off the UI thread. Returns the file, ready to send like a picked one.
pub async fn save_png(
    picture: image::RgbaImage,
    dir: PathBuf,
    name: String,
) -> Result<PathBuf, ClipboardError> {
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|source| ClipboardError::Write {
            path: dir.clone(),
            source,
        })?;
        let path = free_path(&dir, &name);
        picture.save_with_format(&path, image::ImageFormat::Png)?;
        Ok(path)
    })
    .await?
}

/// `dir/name`, or `dir/stem (1).ext`, `(2)`… if that is taken: two pastes in one second both keep
/// their picture.
pub fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (1..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pasted_picture_becomes_a_png_with_a_free_name() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("pictures");
        let picture = image::RgbaImage::from_pixel(3, 2, image::Rgba([9, 8, 7, 255]));
        let name = "Screenshot 2026-12-06 153012.png".to_owned();
        let first = save_png(picture.clone(), sub.clone(), name.clone())
            .await
            .unwrap();
        assert_eq!(first, sub.join(&name));
        let second = save_png(picture.clone(), sub.clone(), name).await.unwrap();
        assert_eq!(second, sub.join("Screenshot 2026-12-06 153012 (1).png"));
        assert_eq!(image::open(&second).unwrap().to_rgba8(), picture);
    }

    /// The real clipboard under a real X server, by hand (no display in `cargo test`):
    /// `xvfb-run -a cargo test -p ququ --lib -- --ignored real_x11` with `xclip` installed. A picture
    /// put there by another program is read with its pixels; with text there, no picture is read (the
    /// editor pastes the text); Copy's picture is pasted by another program as a PNG.
    #[tokio::test]
    #[ignore = "needs an X server and xclip"]
    async fn real_x11_clipboard_round_trip() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("shot.png");
        let shot = image::RgbaImage::from_fn(64, 40, |x, y| {
            image::Rgba([x as u8 * 4, y as u8 * 6, 90, 255])
        });
        shot.save(&png).unwrap();
        // xclip serves the selection from the background until another owner takes it.
        let offer = |args: &[&str], input: &[u8]| {
            let mut child = Command::new("xclip")
                .args(args)
                .stdin(Stdio::piped())
                .spawn()
                .expect("xclip");
            child.stdin.take().unwrap().write_all(input).unwrap();
            child.wait().unwrap();
        };
        offer(
            &["-selection", "clipboard", "-t", "image/png"],
            &std::fs::read(&png).unwrap(),
        );
        let keeper = Keeper::default();
        let read = keeper.read_image().await.expect("read").expect("a picture");
        assert_eq!(read, shot);

        offer(&["-selection", "clipboard"], "你好".as_bytes());
        assert_eq!(keeper.read_image().await.expect("read"), None, "text wins");

        keeper.write_image(png.clone()).await.expect("copy");
        let out = Command::new("xclip")
            .args(["-selection", "clipboard", "-t", "image/png", "-o"])
            .output()
            .expect("xclip -o");
        let pasted = image::load_from_memory(&out.stdout)
            .expect("a png")
            .to_rgba8();
        assert_eq!(pasted, shot);
    }

    #[test]
    fn screenshot_names_follow_the_language() {
        let zh = screenshot_name(crate::i18n::Lang::Zh);
        assert!(zh.starts_with("截图 20") && zh.ends_with(".png"), "{zh}");
        let en = screenshot_name(crate::i18n::Lang::En);
        // "Screenshot YYYY-MM-DD HHMMSS.png"
        assert_eq!(en.len(), "Screenshot 2026-12-06 153012.png".len(), "{en}");
    }
}

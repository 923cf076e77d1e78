//! The disk and OS side of sending files: choosing them, checking them, thumbnails, where downloads go,
//! and opening what was received. Every function here is async (or runs its work on a blocking thread) so
//! `update` only ever starts it through `Task::perform`.

use std::path::{Path, PathBuf};

/// Longest side of an inline thumbnail in pixels: sharp at 2× for the ~180 px the bubble shows.
pub const THUMB_SIDE: u32 = 360;

/// Images larger than this are not decoded for a thumbnail: a 200 MB TIFF-like PNG would stall a core and
/// eat memory for a picture shown at 180 px.
const THUMB_MAX_BYTES: u64 = 40 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a file")]
    NotAFile(PathBuf),
    #[error("the file is too large for a thumbnail")]
    TooLargeForThumbnail,
    #[error("not an image we can decode: {0}")]
    Decode(#[from] image::ImageError),
    #[error("cannot start {program}: {source}")]
    Launch {
        program: String,
        source: std::io::Error,
    },
    #[error("the background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// A file the user chose to send, checked on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
}

/// Whether this system can show a native file dialog.
///
/// On Linux rfd asks the desktop portal (xdg-desktop-portal, started over D-Bus) and falls back to
/// `zenity`; a bare window manager has neither, and then the dialog returns nothing at once — the same as
/// Cancel, so the click would seem to do nothing. The app asks for a path in the window instead.
/// `QUQU_FILE_DIALOG=builtin` forces that (tests, or a portal that misbehaves).
pub fn native_dialogs() -> bool {
    if std::env::var_os("QUQU_FILE_DIALOG").is_some_and(|v| v == "builtin") {
        return false;
    }
    if !cfg!(all(unix, not(target_os = "macos"))) {
        return true;
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    let data_dirs = std::env::var("XDG_DATA_DIRS")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    let portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        && data_dirs.split(':').any(|dir| {
            Path::new(dir)
                .join("dbus-1/services/org.freedesktop.portal.Desktop.service")
                .is_file()
        });
    portal || on_path("zenity")
}

/// A path as people type or paste it: quotes around it, a `file://` prefix and a leading `~` are
/// understood.
pub fn typed_path(text: &str) -> Option<PathBuf> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'');
    let text = text.strip_prefix("file://").unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix("~/").or(text.strip_prefix("~\\"))
        && let Some(home) = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
    {
        return Some(home.join(rest));
    }
    Some(PathBuf::from(text))
}

/// Asks the user for files to send (native dialog, async so the UI keeps drawing).
pub async fn pick_files(title: String) -> Vec<PathBuf> {
    rfd::AsyncFileDialog::new()
        .set_title(title)
        .pick_files()
        .await
        .map(|handles| handles.iter().map(|h| h.path().to_path_buf()).collect())
        .unwrap_or_default()
}

/// Asks where to save a received file, starting in the Downloads folder with the sender's name.
pub async fn pick_save(title: String, name: String) -> Option<PathBuf> {
    let mut dialog = rfd::AsyncFileDialog::new()
        .set_title(title)
        .set_file_name(ququ_client::transfer::safe_file_name(&name));
    if let Some(dir) = downloads_dir() {
        dialog = dialog.set_directory(dir);
    }
    dialog.save_file().await.map(|h| h.path().to_path_buf())
}

/// Checks that a chosen or dropped path is a readable regular file, and reads its size.
pub async fn check(path: PathBuf) -> Result<Chosen, FilesError> {
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|source| FilesError::Read {
            path: path.clone(),
            source,
        })?;
    if !meta.is_file() {
        return Err(FilesError::NotAFile(path));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    Ok(Chosen {
        name,
        size: meta.len(),
        path,
    })
}

/// Decodes an image and scales it to fit [`THUMB_SIDE`], on a blocking thread. Returns RGBA pixels.
pub async fn thumbnail(path: PathBuf) -> Result<image::RgbaImage, FilesError> {
    tokio::task::spawn_blocking(move || {
        let len = std::fs::metadata(&path)
            .map_err(|source| FilesError::Read {
                path: path.clone(),
                source,
            })?
            .len();
        if len > THUMB_MAX_BYTES {
            return Err(FilesError::TooLargeForThumbnail);
        }
        let bytes = std::fs::read(&path).map_err(|source| FilesError::Read {
            path: path.clone(),
            source,
        })?;
        let image = image::load_from_memory(&bytes)?;
        let (w, h) = (image.width(), image.height());
        let image = if w > THUMB_SIDE || h > THUMB_SIDE {
            image.thumbnail(THUMB_SIDE, THUMB_SIDE)
        } else {
            image
        };
        Ok(image.to_rgba8())
    })
    .await?
}

/// Longest side of a picture in the viewer. GPUs refuse textures past 8192 px (a panorama or a big scan
/// is wider), and a screen shows nothing more at 1:1 anyway.
pub const PICTURE_MAX_SIDE: u32 = 8192;

/// A picture decoded whole, for the viewer or the clipboard.
#[derive(Debug, Clone)]
pub struct Picture {
    pub image: image::RgbaImage,
    /// An animated GIF: the image is its first frame (the viewer says so).
    pub animated: bool,
}

/// Decodes a picture whole (scaled down only past [`PICTURE_MAX_SIDE`]), on a blocking thread. A GIF
/// gives its first frame, and says whether more follow.
pub async fn picture(path: PathBuf) -> Result<Picture, FilesError> {
    tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).map_err(|source| FilesError::Read {
            path: path.clone(),
            source,
        })?;
        let image = image::load_from_memory(&bytes)?;
        let image = if image.width() > PICTURE_MAX_SIDE || image.height() > PICTURE_MAX_SIDE {
            image.thumbnail(PICTURE_MAX_SIDE, PICTURE_MAX_SIDE)
        } else {
            image
        };
        let animated = image::guess_format(&bytes).ok() == Some(image::ImageFormat::Gif)
            && gif_frames(&bytes) > 1;
        Ok(Picture {
            image: image.to_rgba8(),
            animated,
        })
    })
    .await?
}

/// How many frames a GIF has, counting to two at most (enough to tell an animation).
fn gif_frames(bytes: &[u8]) -> usize {
    use image::AnimationDecoder;
    image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes))
        .map(|decoder| decoder.into_frames().take(2).filter(Result::is_ok).count())
        .unwrap_or(0)
}

/// Copies a received picture to where the user chose (the viewer's Save as…).
pub async fn save_copy(from: PathBuf, to: PathBuf) -> Result<PathBuf, FilesError> {
    tokio::fs::copy(&from, &to)
        .await
        .map_err(|source| FilesError::Write {
            path: to.clone(),
            source,
        })?;
    Ok(to)
}

/// Copies a picture into `dir` under its own name (a taken name gets a number): Save as… where the
/// system has no file dialog.
pub async fn save_copy_into(
    from: PathBuf,
    dir: PathBuf,
    name: String,
) -> Result<PathBuf, FilesError> {
    let name = ququ_client::transfer::safe_file_name(&name);
    let to = tokio::task::spawn_blocking(move || crate::clipboard::free_path(&dir, &name)).await?;
    save_copy(from, to).await
}

/// The user's Downloads folder, if the OS has one.
pub fn downloads_dir() -> Option<PathBuf> {
    directories::UserDirs::new().and_then(|d| d.download_dir().map(Path::to_path_buf))
}

/// The program that opens a file or a web address the way a double-click would. On Windows, Explorer:
/// not `cmd /C start`, since cmd parses the line again, and a received file named `x&calc&.txt` (legal
/// on Windows, and kept by `safe_file_name`) would run `calc`.
fn opener() -> &'static str {
    if cfg!(target_os = "windows") {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    }
}

/// Opens a file with the program the OS associates with it.
pub async fn open(path: PathBuf) -> Result<(), FilesError> {
    launch(opener(), vec![path.into_os_string()]).await
}

/// Opens a web address (a link in a message; only `http(s)` ones are links, see
/// [`crate::model::links`]) in the default browser.
pub async fn open_link(url: String) -> Result<(), FilesError> {
    launch(opener(), vec![url.into()]).await
}

/// Shows the file in the OS file manager (selected where the platform can do that).
pub async fn reveal(path: PathBuf) -> Result<(), FilesError> {
    let (program, args): (&str, Vec<std::ffi::OsString>) = if cfg!(target_os = "windows") {
        let mut select = std::ffi::OsString::from("/select,");
        select.push(path.as_os_str());
        ("explorer", vec![select])
    } else if cfg!(target_os = "macos") {
        ("open", vec!["-R".into(), path.into_os_string()])
    } else {
        // The freedesktop way to select a file needs D-Bus; opening the folder works everywhere.
        let dir = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        ("xdg-open", vec![dir.into_os_string()])
    };
    launch(program, args).await
}

async fn launch(program: &str, args: Vec<std::ffi::OsString>) -> Result<(), FilesError> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|source| FilesError::Launch {
            program: program.to_owned(),
            source,
        })?;
    // Reap it in the background so no zombie is left; its exit status says nothing useful to the user.
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn thumbnails_fit_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.png");
        image::RgbaImage::from_pixel(1000, 500, image::Rgba([1, 2, 3, 255]))
            .save(&big)
            .unwrap();
        let thumb = thumbnail(big).await.unwrap();
        assert_eq!(thumb.dimensions(), (THUMB_SIDE, THUMB_SIDE / 2));
        let junk = dir.path().join("junk.png");
        std::fs::write(&junk, b"nope").unwrap();
        assert!(thumbnail(junk).await.is_err());
        assert!(
            check(dir.path().into()).await.is_err(),
            "a folder is refused"
        );
    }

    #[tokio::test]
    async fn a_gif_shows_its_first_frame_and_says_it_moves() {
        use image::codecs::gif::GifEncoder;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wave.gif");
        let frame = |c: u8| {
            image::Frame::new(image::RgbaImage::from_pixel(
                4,
                4,
                image::Rgba([c, 0, 0, 255]),
            ))
        };
        {
            let file = std::fs::File::create(&path).unwrap();
            let mut encoder = GifEncoder::new(file);
            encoder.encode_frames([frame(250), frame(10)]).unwrap();
        }
        let shown = picture(path).await.unwrap();
        assert!(shown.animated);
        assert!(shown.image.get_pixel(0, 0)[0] > 200, "the first frame");
        let still = dir.path().join("still.png");
        image::RgbaImage::from_pixel(2, 2, image::Rgba([1, 2, 3, 255]))
            .save(&still)
            .unwrap();
        assert!(!picture(still).await.unwrap().animated);
    }
}

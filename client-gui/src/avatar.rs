//! Avatars: a generated one (initials on a colour) for everybody, and an image the user picks for
//! themselves — decoded, centre-cropped to a square and scaled with the `image` crate, off the UI thread.

use std::path::{Path, PathBuf};

use iced::widget::{container, image as image_widget, text};
use iced::{Center, Color, Element, color};
use image::imageops::FilterType;

use crate::theme;

/// Side of the stored avatar in pixels: sharp at the 2× scale of high-DPI screens for our 48 px use.
pub const STORED_SIDE: u32 = 128;

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not an image we can decode: {0}")]
    Decode(#[from] image::ImageError),
    #[error("the image is empty")]
    Empty,
    #[error("cannot save the avatar: {0}")]
    Write(std::io::Error),
}

/// Pleasant, white-text-readable colours; an account always gets the same one.
const COLORS: [Color; 8] = [
    color!(0x3d8bfd),
    color!(0x20b2aa),
    color!(0xf0883e),
    color!(0x8e6cef),
    color!(0xe0598b),
    color!(0x2fa86b),
    color!(0xd9a514),
    color!(0x5b7083),
];

/// The colour of an account's generated avatar. FNV-1a so it is stable across runs and builds (unlike
/// `DefaultHasher`), hence across machines too.
pub fn color_for(account: &str) -> Color {
    let hash = account.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    COLORS[(hash % COLORS.len() as u64) as usize]
}

/// What goes on a generated avatar: the first letter (upper-cased) of a Latin name, the first character
/// of a Chinese one.
pub fn initials(name: &str) -> String {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".to_owned())
}

/// A picture ready to draw. Made once per picture and kept (see `App::avatar_handles`): a handle
/// made anew at each drawing would be a new image to the renderer every frame, copied and uploaded again
/// for every avatar on screen.
///
/// Cut round here, in the pixels, rather than by the image widget's `border_radius`: the software
/// renderer (tiny-skia, what a machine without a GPU draws with) ignores that, and drew every picture
/// square beside the round generated ones.
pub fn handle(picture: &image::RgbaImage) -> image_widget::Handle {
    let round = round(picture);
    image_widget::Handle::from_rgba(round.width(), round.height(), round.into_raw())
}

/// `picture` scaled to `side` pixels across and cut round: a server picture where there is no image
/// widget to draw it (a desktop notification).
pub fn rounded(picture: &image::RgbaImage, side: u32) -> image::RgbaImage {
    let scaled =
        image::imageops::resize(picture, side, side, image::imageops::FilterType::Triangle);
    round(&scaled)
}

/// `picture` inside a circle: outside it transparent, its edge a pixel of soft alpha.
fn round(picture: &image::RgbaImage) -> image::RgbaImage {
    let mut out = picture.clone();
    let (w, h) = (picture.width() as f32, picture.height() as f32);
    let r = w.min(h) / 2.0;
    let (cx, cy) = (w / 2.0, h / 2.0);
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
        let coverage = (r - d + 0.5).clamp(0.0, 1.0);
        pixel.0[3] = (f32::from(pixel.0[3]) * coverage).round() as u8;
    }
    out
}

/// A round avatar `size` pixels across: the picture if there is one, else the generated one, with
/// the initial of `name`, or of `account` when the name is blank (someone known only by account).
pub fn view<'a, M: 'a>(
    name: &str,
    account: &str,
    picture: Option<&image_widget::Handle>,
    size: f32,
) -> Element<'a, M> {
    if let Some(handle) = picture {
        return image_widget(handle.clone())
            .width(size)
            .height(size)
            .border_radius(size / 2.0)
            .into();
    }
    let name = if name.trim().is_empty() {
        account
    } else {
        name
    };
    container(text(initials(name)).size(size * 0.45).color(Color::WHITE))
        .width(size)
        .height(size)
        .align_x(Center)
        .align_y(Center)
        .style(theme::avatar(color_for(account)))
        .into()
}

/// The generated avatar as a picture `side` pixels across (for a desktop notification, which cannot
/// draw our widgets): the account's colour in a circle, the initial in white, in the shipped font.
pub fn picture(name: &str, account: &str, side: u32) -> image::RgbaImage {
    use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
    let name = if name.trim().is_empty() {
        account
    } else {
        name
    };
    let fill = color_for(account).into_rgba8();
    let mut picture = image::RgbaImage::new(side, side);
    let r = side as f32 / 2.0;
    for (x, y, p) in picture.enumerate_pixels_mut() {
        let d = ((x as f32 + 0.5 - r).powi(2) + (y as f32 + 0.5 - r).powi(2)).sqrt();
        // One pixel of soft edge, so the circle is not jagged.
        let cover = (r - d + 0.5).clamp(0.0, 1.0);
        *p = image::Rgba([fill[0], fill[1], fill[2], (cover * 255.0) as u8]);
    }
    let Ok(font) = FontRef::try_from_slice(crate::fonts::QUQU_SANS_BYTES) else {
        return picture;
    };
    // The size the widget uses: 45 % of the side.
    let scaled = font.as_scaled(PxScale::from(side as f32 * 0.45));
    let glyphs: Vec<_> = initials(name)
        .chars()
        .map(|c| scaled.scaled_glyph(c))
        .collect();
    let width: f32 = glyphs.iter().map(|g| scaled.h_advance(g.id)).sum();
    // Centred on the cap height's middle rather than the line's, as a letter looks centred.
    let baseline = r + (scaled.ascent() + scaled.descent()) / 2.0;
    let mut x = r - width / 2.0;
    for mut glyph in glyphs {
        let advance = scaled.h_advance(glyph.id);
        glyph.position = point(x, baseline);
        x += advance;
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i32 + gx as i32,
                bounds.min.y as i32 + gy as i32,
            );
            if px < 0 || py < 0 || px >= side as i32 || py >= side as i32 {
                return;
            }
            let p = picture.get_pixel_mut(px as u32, py as u32);
            let blend = |under: u8| (f32::from(under) * (1.0 - coverage) + 255.0 * coverage) as u8;
            *p = image::Rgba([blend(p[0]), blend(p[1]), blend(p[2]), p[3]]);
        });
    }
    picture
}

/// Decodes an image, crops the centred square and scales it to [`STORED_SIDE`].
pub fn process(bytes: &[u8]) -> Result<image::RgbaImage, AvatarError> {
    let decoded = image::load_from_memory(bytes)?;
    let (w, h) = (decoded.width(), decoded.height());
    if w == 0 || h == 0 {
        return Err(AvatarError::Empty);
    }
    let side = w.min(h);
    let square = decoded.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    Ok(square
        .resize_exact(STORED_SIDE, STORED_SIDE, FilterType::Lanczos3)
        .to_rgba8())
}

/// Asks the user for an image file (native dialog, async so the UI keeps drawing).
pub async fn pick_file(title: String) -> Option<PathBuf> {
    rfd::AsyncFileDialog::new()
        .set_title(title)
        .add_filter("Images", &["png", "jpg", "jpeg", "gif", "webp"])
        .pick_file()
        .await
        .map(|handle| handle.path().to_path_buf())
}

/// Reads, processes and stores the picked image as `avatar.png` under `dir`; returns what to show.
pub async fn import(source: PathBuf, dir: PathBuf) -> Result<image::RgbaImage, AvatarError> {
    let processed = read_processed(source).await?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AvatarError::Write)?;
    let png = encode_png(&processed)?;
    tokio::fs::write(stored_path(&dir), png)
        .await
        .map_err(AvatarError::Write)?;
    Ok(processed)
}

/// A picked image read, then cropped and scaled by [`process`]. Decoding and resampling a large photo
/// takes a noticeable moment: off the async workers too.
async fn read_processed(source: PathBuf) -> Result<image::RgbaImage, AvatarError> {
    let bytes = tokio::fs::read(&source)
        .await
        .map_err(|source_err| AvatarError::Read {
            path: source.clone(),
            source: source_err,
        })?;
    tokio::task::spawn_blocking(move || process(&bytes))
        .await
        .map_err(|e| AvatarError::Write(std::io::Error::other(e)))?
}

/// Loads the stored avatar, if any.
pub async fn load(dir: PathBuf) -> Option<image::RgbaImage> {
    let bytes = tokio::fs::read(stored_path(&dir)).await.ok()?;
    image::load_from_memory(&bytes).ok().map(|i| i.to_rgba8())
}

/// Forgets the picked avatar.
pub async fn remove(dir: PathBuf) {
    let _ = tokio::fs::remove_file(stored_path(&dir)).await;
}

/// The picture to send the server for an avatar: a PNG when that is at most `max` bytes (a drawing, a
/// logo), else a JPEG, at the best quality of a few that fits (a photo, whose 128 px PNG is often 30 KB or
/// more). Transparency in a JPEG becomes white, as a round avatar shows it on a light list.
pub fn encode_for_upload(img: &image::RgbaImage, max: usize) -> Result<Vec<u8>, AvatarError> {
    let png = encode_png(img)?;
    if png.len() <= max {
        return Ok(png);
    }
    let rgb = image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let [r, g, b, a] = img.get_pixel(x, y).0;
        let over_white =
            |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    });
    let mut jpeg = Vec::new();
    for quality in [85, 70, 50, 30] {
        jpeg.clear();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
            .encode_image(&rgb)?;
        if jpeg.len() <= max {
            break;
        }
    }
    // Still too large (a tiny limit): sent anyway, and the server's refusal is said in words.
    Ok(jpeg)
}

/// Reads a picked image, crops and scales it as [`process`] does, and encodes it for the server
/// ([`encode_for_upload`]); for a group's avatar, which is not kept on this computer.
pub async fn prepare(source: PathBuf, max: usize) -> Result<Vec<u8>, AvatarError> {
    let processed = read_processed(source).await?;
    tokio::task::spawn_blocking(move || encode_for_upload(&processed, max))
        .await
        .map_err(|e| AvatarError::Write(std::io::Error::other(e)))?
}

fn stored_path(dir: &Path) -> PathBuf {
    dir.join("avatar.png")
}

fn encode_png(img: &image::RgbaImage) -> Result<Vec<u8>, AvatarError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_cut_round_for_every_renderer() {
        let square = image::RgbaImage::from_pixel(64, 64, image::Rgba([200, 10, 10, 255]));
        let round = round(&square);
        assert_eq!(round.get_pixel(0, 0).0[3], 0, "a corner is gone");
        assert_eq!(round.get_pixel(63, 63).0[3], 0, "so is the opposite one");
        assert_eq!(
            round.get_pixel(32, 32).0,
            [200, 10, 10, 255],
            "the middle stays"
        );
        assert_eq!(
            round.get_pixel(32, 1).0[3],
            255,
            "inside the top edge stays"
        );
        // Where the circle crosses a pixel it is partly seen: no jagged edge.
        assert!((1..255).contains(&round.get_pixel(9, 9).0[3]));
    }

    #[test]
    fn initials_and_colours() {
        assert_eq!(initials("alice"), "A");
        assert_eq!(initials("  小明"), "小");
        assert_eq!(initials(""), "?");
        assert_eq!(color_for("alice"), color_for("alice"));
    }

    #[test]
    fn crops_and_scales() {
        let img = image::RgbaImage::from_fn(300, 100, |x, _| {
            if x < 100 {
                image::Rgba([255, 0, 0, 255])
            } else {
                image::Rgba([0, 0, 255, 255])
            }
        });
        let png = encode_png(&img).unwrap();
        let out = process(&png).unwrap();
        assert_eq!(out.dimensions(), (STORED_SIDE, STORED_SIDE));
        // The centre square (x 100..200) is all blue: the red left third was cropped away.
        assert_eq!(out.get_pixel(0, 64).0, [0, 0, 255, 255]);
    }

    /// A drawing goes as a PNG; a noisy photo that is too large as a PNG goes as a JPEG within the limit.
    #[test]
    fn an_upload_fits_the_servers_limit() {
        let flat =
            image::RgbaImage::from_pixel(STORED_SIDE, STORED_SIDE, image::Rgba([9, 99, 199, 255]));
        let png = encode_for_upload(&flat, 32768).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let mut seed = 1u32;
        let noisy = image::RgbaImage::from_fn(STORED_SIDE, STORED_SIDE, |_, _| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let [a, b, c, _] = seed.to_le_bytes();
            image::Rgba([a, b, c, 255])
        });
        assert!(encode_png(&noisy).unwrap().len() > 32768);
        let jpeg = encode_for_upload(&noisy, 32768).unwrap();
        assert!(jpeg.starts_with(b"\xff\xd8\xff"));
        assert!(jpeg.len() <= 32768, "{} bytes", jpeg.len());
        assert_eq!(image::load_from_memory(&jpeg).unwrap().width(), STORED_SIDE);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(process(b"not an image").is_err());
    }
}

//! The icon's three looks, shared by the Linux and Windows icons: the app's icon in colour (online), grey
//! (offline), and in colour with a red dot (unread messages). Each back end turns the pixels into its own
//! icon type.

/// The app's icon from assets/icons, in the sizes a back end picks from, smallest first.
const PNGS: [(u32, &[u8]); 5] = [
    (16, include_bytes!("../../../assets/icons/16x16.png")),
    (24, include_bytes!("../../../assets/icons/24x24.png")),
    (32, include_bytes!("../../../assets/icons/32x32.png")),
    (48, include_bytes!("../../../assets/icons/48x48.png")),
    (64, include_bytes!("../../../assets/icons/64x64.png")),
];

/// The icon drawn for `size` px: the smallest at least that big, else the biggest.
pub(super) fn png(size: u32) -> &'static [u8] {
    PNGS.iter()
        .find(|(side, _)| *side >= size)
        .unwrap_or(&PNGS[PNGS.len() - 1])
        .1
}

/// Something in each of the three looks.
pub(super) struct Looks<T> {
    pub online: T,
    pub offline: T,
    pub unread: T,
}

/// The three looks of each of `pngs` (in that order), each made into a `T` by `convert`.
pub(super) fn make<T>(pngs: &[&[u8]], convert: impl Fn(&image::RgbaImage) -> T) -> Looks<Vec<T>> {
    let decoded: Vec<image::RgbaImage> = pngs
        .iter()
        .filter_map(|png| image::load_from_memory(png).ok())
        .map(|image| image.to_rgba8())
        .collect();
    let look = |paint: fn(&mut image::RgbaImage)| {
        decoded
            .iter()
            .map(|image| {
                let mut image = image.clone();
                paint(&mut image);
                convert(&image)
            })
            .collect()
    };
    Looks {
        online: look(|_| {}),
        offline: look(grey),
        unread: look(red_dot),
    }
}

fn grey(image: &mut image::RgbaImage) {
    for p in image.pixels_mut() {
        let l = (u32::from(p[0]) * 30 + u32::from(p[1]) * 59 + u32::from(p[2]) * 11) / 100;
        let l = l as u8;
        *p = image::Rgba([l, l, l, p[3] / 2 + p[3] / 4]);
    }
}

/// A red dot in the top right corner, a third of the icon wide, as QQ's and most docks' badges.
fn red_dot(image: &mut image::RgbaImage) {
    let size = image.width() as f32;
    let r = size / 6.0;
    let (cx, cy) = (size - r - 0.5, r + 0.5);
    for (x, y, p) in image.enumerate_pixels_mut() {
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        // One pixel of soft edge.
        let cover = (r + 0.5 - d).clamp(0.0, 1.0);
        if cover > 0.0 {
            let blend = |under: u8, over: u8| {
                (f32::from(under) * (1.0 - cover) + f32::from(over) * cover) as u8
            };
            *p = image::Rgba([
                blend(p[0], 0xF5),
                blend(p[1], 0x3F),
                blend(p[2], 0x3F),
                p[3].max((cover * 255.0) as u8),
            ]);
        }
    }
}

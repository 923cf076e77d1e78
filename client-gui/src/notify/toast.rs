//! What a Windows toast says, as the XML Windows reads it (the "ToastGeneric" template): built from an
//! [`Alert`] alone, so it is tested on every system, though only Windows shows it (`windows`).

use std::path::Path;

use super::Alert;

/// The toast's XML: the summary as its title, the body on up to two lines below, the avatar round
/// beside them (`picture`, a PNG file, when it could be written), and the sound: Windows' own "instant
/// message" sound, or none. (A toast from an app not installed from the Store can only play the
/// system's notification sounds, not a file of its own, so Ququ's `message.wav` is not used here.)
pub fn xml(alert: &Alert, picture: Option<&Path>) -> String {
    let image = picture
        .map(|path| {
            // A `file:///` URI; Windows takes the path's own backslashes in it.
            format!(
                r#"<image placement="appLogoOverride" hint-crop="circle" src="file:///{}"/>"#,
                escape(&path.display().to_string())
            )
        })
        .unwrap_or_default();
    let audio = if alert.sound {
        r#"<audio src="ms-winsoundevent:Notification.IM"/>"#
    } else {
        r#"<audio silent="true"/>"#
    };
    format!(
        concat!(
            r#"<toast activationType="foreground" launch="ququ">"#,
            r#"<visual><binding template="ToastGeneric">"#,
            r#"<text hint-maxLines="1">{}</text><text hint-maxLines="2">{}</text>{}"#,
            "</binding></visual>{}</toast>",
        ),
        escape(&alert.summary),
        escape(&alert.body),
        image,
        audio,
    )
}

/// `text` as XML character data or an attribute's value: names and messages may hold any character.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no way to write the other control characters, even escaped: Windows would
            // refuse the whole toast for one of them.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Topic;

    fn alert(summary: &str, body: &str, sound: bool) -> Alert {
        Alert {
            topic: Topic::Requests,
            summary: summary.into(),
            body: body.into(),
            sound,
            avatar: ("Ann".into(), "ann".into()),
            picture: None,
        }
    }

    /// The title and text are there as written, with what XML would misread escaped; a stray control
    /// character (which XML cannot carry) becomes a space rather than losing the toast.
    #[test]
    fn says_who_and_what_escaped() {
        let xml = xml(
            &alert("Tom & \"Jerry\"", "<b>hi</b> it's\u{7}me\nline two", true),
            None,
        );
        assert!(
            xml.contains(r#"<text hint-maxLines="1">Tom &amp; &quot;Jerry&quot;</text>"#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<text hint-maxLines="2">&lt;b&gt;hi&lt;/b&gt; it&apos;s me
line two</text>"#
            ),
            "{xml}"
        );
        assert!(xml.contains("Notification.IM"), "{xml}");
        assert!(!xml.contains("<image"), "{xml}");
    }

    /// The avatar, round, from its file; no sound when sounds are off.
    #[test]
    fn shows_the_avatar_and_keeps_quiet_when_asked() {
        let path = Path::new(r"C:\Users\Ann & Bob\AppData\Roaming\Ququ\notifications\3.png");
        let xml = xml(&alert("Ann", "hi", false), Some(path));
        assert!(
            xml.contains(
                r#"<image placement="appLogoOverride" hint-crop="circle" src="file:///C:\Users\Ann &amp; Bob\AppData\Roaming\Ququ\notifications\3.png"/>"#
            ),
            "{xml}"
        );
        assert!(xml.contains(r#"<audio silent="true"/>"#), "{xml}");
        assert!(!xml.contains("Notification.IM"), "{xml}");
    }
}

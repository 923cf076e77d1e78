//! Notifications over the freedesktop interface on the D-Bus session bus (Linux and the BSDs' desktops).

use std::collections::HashMap;

use iced::futures::{Stream, StreamExt};
use zbus::Connection;
use zbus::zvariant::Value;

use super::{Alert, Problem, escape};

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

/// The session bus, or why there is none (no desktop session, as on a server or under plain Xvfb).
pub async fn session() -> Result<Connection, Problem> {
    Connection::session().await.map_err(|_| Problem::NoBus)
}

fn problem(e: zbus::Error) -> Problem {
    match &e {
        zbus::Error::MethodError(name, _, _)
            if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown" =>
        {
            Problem::NoService
        }
        _ => Problem::Failed(e.to_string()),
    }
}

/// Shows `alert` in place of the desktop's notification `replaces` (0 for a new one), with `open` as the
/// words of its default action (clicking it). Returns the desktop's id for it.
pub async fn show(
    bus: &Connection,
    alert: &Alert,
    replaces: u32,
    open: &str,
    sound: Option<&std::path::Path>,
) -> Result<u32, Problem> {
    let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
    // The category lets the desktop group and style it as a chat message; the desktop entry names the app
    // (its icon, its settings) as the installed `ququ.desktop` does.
    hints.insert("category", Value::from("im.received"));
    hints.insert("desktop-entry", Value::from("ququ"));
    // The sender's avatar, as in the app (the spec's `image-data`: width, height, row stride, alpha,
    // bits per sample, channels, RGBA bytes); 64 px is what GNOME and KDE show at their largest.
    let picture = alert.avatar_picture(64);
    let (w, h) = (picture.width() as i32, picture.height() as i32);
    hints.insert(
        "image-data",
        Value::from((w, h, w * 4, true, 8i32, 4i32, picture.into_raw())),
    );
    if alert.sound {
        // Played by the desktop, never by the UI thread: our own sound where it could be written, and
        // the sound theme's name for an incoming instant message for desktops that only play names.
        if let Some(file) = sound.and_then(|p| p.to_str()) {
            hints.insert("sound-file", Value::from(file.to_owned()));
        }
        hints.insert("sound-name", Value::from("message-new-instant"));
    } else {
        hints.insert("suppress-sound", Value::from(true));
    }
    let actions = ["default", open];
    let reply = bus
        .call_method(
            Some(NAME),
            PATH,
            Some(NAME),
            "Notify",
            &(
                "Ququ",
                replaces,
                "ququ",
                // The summary is plain text by the spec; the body may be read as markup.
                alert.summary.as_str(),
                escape(&alert.body),
                &actions[..],
                hints,
                -1i32,
            ),
        )
        .await
        .map_err(problem)?;
    reply
        .body()
        .deserialize::<u32>()
        .map_err(|e| Problem::Failed(e.to_string()))
}

/// The ids of notifications the user clicked, as the desktop reports them (`ActionInvoked`), for as long
/// as the session bus is there.
pub fn clicks() -> impl Stream<Item = u32> {
    iced::stream::channel(16, async |mut output| {
        let Ok(bus) = Connection::session().await else {
            return;
        };
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(NAME)
            .and_then(|r| r.member("ActionInvoked"))
            .map(|r| r.build());
        let Ok(rule) = rule else {
            return;
        };
        let Ok(mut signals) = zbus::MessageStream::for_match_rule(rule, &bus, None).await else {
            return;
        };
        while let Some(Ok(signal)) = signals.next().await {
            if let Ok((id, action)) = signal.body().deserialize::<(u32, String)>()
                && action == "default"
                && iced::futures::SinkExt::send(&mut output, id).await.is_err()
            {
                return;
            }
        }
    })
}

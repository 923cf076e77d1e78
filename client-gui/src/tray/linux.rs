//! The tray icon as a StatusNotifierItem (with its menu over `com.canonical.dbusmenu`), served by `ksni`
//! on the session bus.

use std::sync::LazyLock;

use iced::futures::channel::mpsc::Sender;
use ksni::menu::{RadioGroup, RadioItem, StandardItem};
use ksni::{Icon, MenuItem, Status, ToolTip, TrayMethods};

use super::looks::{self, Looks};
use super::{Event, Problem, Shown};

/// The three looks, made once, in the two sizes panels ask for most (22–24 px panels scale the 32,
/// HiDPI ones the 64).
static LOOKS: LazyLock<Looks<Vec<Icon>>> =
    LazyLock::new(|| looks::make(&[looks::png(32), looks::png(64)], argb));

/// The SNI pixel format: ARGB32 in network byte order.
fn argb(image: &image::RgbaImage) -> Icon {
    let data = image
        .pixels()
        .flat_map(|p| [p[3], p[0], p[1], p[2]])
        .collect();
    Icon {
        width: image.width() as i32,
        height: image.height() as i32,
        data,
    }
}

/// The item the desktop asks about. Clicks go to the app as [`Event`]s.
pub struct Item {
    pub(super) shown: Shown,
    events: Sender<Event>,
}

impl Item {
    fn send(&mut self, event: Event) {
        // Full (the app is busy): a click is lost, never the app blocked on the bus's thread.
        let _ = self.events.try_send(event);
    }
}

impl ksni::Tray for Item {
    fn id(&self) -> String {
        "ququ".into()
    }

    fn title(&self) -> String {
        self.shown.tooltip().0
    }

    fn category(&self) -> ksni::Category {
        ksni::Category::Communications
    }

    /// `NeedsAttention` while something waits (unread, a friend request): hosts then show the attention icon (the red dot),
    /// and some (KDE) make it blink.
    fn status(&self) -> Status {
        if self.shown.attention() {
            Status::NeedsAttention
        } else {
            Status::Active
        }
    }

    /// The plain icon carries the dot too: some hosts keep showing the attention icon after the status
    /// goes back to `Active` (XFCE's tray did here, under Xvfb), and some never show it at all; a
    /// changed icon every host redraws.
    fn icon_pixmap(&self) -> Vec<Icon> {
        if self.shown.attention() {
            LOOKS.unread.clone()
        } else if self.shown.online {
            LOOKS.online.clone()
        } else {
            LOOKS.offline.clone()
        }
    }

    fn attention_icon_pixmap(&self) -> Vec<Icon> {
        LOOKS.unread.clone()
    }

    fn tool_tip(&self) -> ToolTip {
        let (title, description) = self.shown.tooltip();
        ToolTip {
            title,
            description,
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        self.send(Event::Activate);
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        let tr = self.shown.lang.tr();
        vec![
            StandardItem {
                label: tr.tray_open.into(),
                activate: Box::new(|item: &mut Item| item.send(Event::Open)),
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            RadioGroup {
                selected: usize::from(self.shown.dnd),
                select: Box::new(|item: &mut Item, chosen| {
                    item.send(Event::DoNotDisturb(chosen == 1));
                }),
                options: vec![
                    RadioItem {
                        label: tr.online.into(),
                        ..Default::default()
                    },
                    RadioItem {
                        label: tr.tray_dnd.into(),
                        ..Default::default()
                    },
                    // Shown, greyed, so the user learns why it is not there.
                    RadioItem {
                        label: tr.tray_invisible.into(),
                        enabled: false,
                        ..Default::default()
                    },
                ],
            }
            .into(),
            MenuItem::Separator,
            StandardItem {
                label: tr.tray_quit.into(),
                icon_name: "application-exit".into(),
                activate: Box::new(|item: &mut Item| item.send(Event::Quit)),
                ..Default::default()
            }
            .into(),
        ]
    }
}

/// Registers the item with the desktop's StatusNotifierWatcher.
pub(super) async fn spawn(
    shown: Shown,
    events: Sender<Event>,
) -> Result<ksni::Handle<Item>, Problem> {
    Item { shown, events }.spawn().await.map_err(|e| match e {
        ksni::Error::Dbus(_) => Problem::NoBus,
        ksni::Error::Watcher(_) | ksni::Error::WontShow => Problem::NoHost,
        other => Problem::Failed(other.to_string()),
    })
}

//! The tray icon on Windows: an icon in the taskbar's notification area with a context menu, made with
//! `tray-icon` (and its `muda` menus).
//!
//! Which thread: `tray-icon` makes a hidden window for the icon, and the icon's clicks and its menu
//! arrive as messages to that window, so the thread that makes it must run a Win32 message loop; its
//! icon and menu items are also `!Send`. The icon is made on iced's main thread, where winit's event
//! loop already dispatches every message of the thread, rather than on a thread of its own with its own
//! `GetMessage` loop: the workspace forbids `unsafe` code, which that loop would need (or a crate that
//! wraps Win32 for just that), and winit refuses a second event loop in a process. iced runs the app's
//! `update` on that thread, so the icon is made, and changed, by [`Owner::show`], which the app calls from
//! `update` (`App::sync_tray`); it lives in a thread-local there. Its clicks come from `tray-icon`'s and
//! `muda`'s event handlers, called on the same thread while winit dispatches the icon's messages, and
//! go to the app through the subscription's channel, which wakes iced.
//!
//! Windows always has a notification area (Explorer's taskbar), so there is no "no host" case here; an
//! icon added before Explorer's taskbar is up (an app started with the session) is added again by
//! `tray-icon` when the taskbar announces itself (`TaskbarCreated`).

use std::cell::RefCell;

use iced::futures::channel::mpsc::Sender;
use tray_icon::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};

use super::looks::{self, Looks};
use super::{Event, Problem, Shown};

/// The menu items' ids, which come back in `MenuEvent`s.
const OPEN: &str = "open";
const ONLINE: &str = "online";
const DND: &str = "dnd";
const INVISIBLE: &str = "invisible";
const QUIT: &str = "quit";

/// The notification area draws its icons at 16 px at 100 % scaling, 24 at 150 %, 32 at 200 %: the
/// 32 px icon is given, and Windows scales it to the size in use.
const SIZE: u32 = 32;

/// The longest tooltip the notification area takes (`szTip`: 128 UTF-16 units with the final NUL).
const TIP_UNITS: usize = 127;

thread_local! {
    /// The icon, on the thread that made it (iced's main thread).
    static TRAY: RefCell<Option<Tray>> = const { RefCell::new(None) };
}

/// The icon and what it shows.
struct Tray {
    icon: TrayIcon,
    looks: Looks<Icon>,
    menu: Items,
    shown: Shown,
}

/// The menu's entries, kept to change their words and check marks.
struct Items {
    open: MenuItem,
    online: CheckMenuItem,
    dnd: CheckMenuItem,
    invisible: CheckMenuItem,
    quit: MenuItem,
}

/// `text` as a menu item's words: `&` would underline the next letter.
fn label(text: &str) -> String {
    text.replace('&', "&&")
}

/// The tooltip's two lines, cut to what the notification area takes.
fn tooltip(shown: &Shown) -> String {
    let (title, state) = shown.tooltip();
    let full = format!("{title}\n{state}");
    if full.encode_utf16().count() <= TIP_UNITS {
        return full;
    }
    let mut cut = String::new();
    let mut units = 0;
    for c in full.chars() {
        // Room for the ellipsis (one unit).
        if units + c.len_utf16() > TIP_UNITS - 1 {
            break;
        }
        units += c.len_utf16();
        cut.push(c);
    }
    cut.push('…');
    cut
}

impl Items {
    fn new(shown: &Shown) -> Self {
        let tr = shown.lang.tr();
        Items {
            open: MenuItem::with_id(OPEN, label(tr.tray_open), true, None),
            online: CheckMenuItem::with_id(ONLINE, label(tr.online), true, !shown.dnd, None),
            dnd: CheckMenuItem::with_id(DND, label(tr.tray_dnd), true, shown.dnd, None),
            // Shown, greyed, so the user learns why it is not there.
            invisible: CheckMenuItem::with_id(
                INVISIBLE,
                label(tr.tray_invisible),
                false,
                false,
                None,
            ),
            quit: MenuItem::with_id(QUIT, label(tr.tray_quit), true, None),
        }
    }

    fn menu(&self) -> Result<Menu, tray_icon::menu::Error> {
        Menu::with_items(&[
            &self.open,
            &PredefinedMenuItem::separator(),
            &self.online,
            &self.dnd,
            &self.invisible,
            &PredefinedMenuItem::separator(),
            &self.quit,
        ])
    }

    fn words(&self, shown: &Shown) {
        let tr = shown.lang.tr();
        self.open.set_text(label(tr.tray_open));
        self.online.set_text(label(tr.online));
        self.dnd.set_text(label(tr.tray_dnd));
        self.invisible.set_text(label(tr.tray_invisible));
        self.quit.set_text(label(tr.tray_quit));
    }

    /// The check mark on the status in use. (Choosing a check item toggles its mark; the status the
    /// app then has is put back here before the menu opens again.)
    fn checks(&self, dnd: bool) {
        self.online.set_checked(!dnd);
        self.dnd.set_checked(dnd);
        self.invisible.set_checked(false);
    }
}

impl Tray {
    fn new(shown: Shown) -> Result<Self, String> {
        let looks = looks::make(&[looks::png(SIZE)], |image| {
            Icon::from_rgba(image.as_raw().clone(), image.width(), image.height())
        });
        let one = |icons: Vec<Result<Icon, tray_icon::BadIcon>>| match icons.into_iter().next() {
            Some(icon) => icon.map_err(|e| e.to_string()),
            None => Err("the icon's PNG did not decode".to_owned()),
        };
        let looks = Looks {
            online: one(looks.online)?,
            offline: one(looks.offline)?,
            unread: one(looks.unread)?,
        };
        let menu = Items::new(&shown);
        let icon = TrayIconBuilder::new()
            .with_id("ququ")
            .with_menu(Box::new(menu.menu().map_err(|e| e.to_string())?))
            // A left click opens the app; the menu is on the right button.
            .with_menu_on_left_click(false)
            .with_tooltip(tooltip(&shown))
            .with_icon(Look::of(&shown).icon(&looks).clone())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Tray {
            icon,
            looks,
            menu,
            shown,
        })
    }

    fn show(&mut self, shown: Shown) -> Result<(), String> {
        if Look::of(&shown) != Look::of(&self.shown) {
            self.icon
                .set_icon(Some(Look::of(&shown).icon(&self.looks).clone()))
                .map_err(|e| e.to_string())?;
        }
        if shown.tooltip() != self.shown.tooltip() {
            self.icon
                .set_tooltip(Some(tooltip(&shown)))
                .map_err(|e| e.to_string())?;
        }
        if shown.lang != self.shown.lang {
            self.menu.words(&shown);
        }
        self.menu.checks(shown.dnd);
        self.shown = shown;
        Ok(())
    }
}

/// Which of the three looks the icon has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Online,
    Offline,
    Unread,
}

impl Look {
    /// The red dot while something waits (unread, a friend request), else colour when online, grey
    /// when not.
    fn of(shown: &Shown) -> Look {
        if shown.attention() {
            Look::Unread
        } else if shown.online {
            Look::Online
        } else {
            Look::Offline
        }
    }

    fn icon(self, looks: &Looks<Icon>) -> &Icon {
        match self {
            Look::Online => &looks.online,
            Look::Offline => &looks.offline,
            Look::Unread => &looks.unread,
        }
    }
}

/// What [`super::Handle`] holds: where the icon's clicks go. The icon itself stays on the thread that
/// made it; when the last handle goes (the app quits, or gave up on the icon) on that thread, so does
/// the icon, at once, rather than staying in the notification area until the mouse passes over it
/// after the process has ended.
pub(super) struct Owner {
    events: Sender<Event>,
}

impl Owner {
    pub(super) fn new(events: Sender<Event>) -> Self {
        Owner { events }
    }

    /// Shows `shown`, making the icon the first time, on this thread, which must run a message loop
    /// (the app's `update` runs on iced's main thread, winit's). `false` if the icon could not be made
    /// or changed; the app then also hears why, as an [`Event::Unavailable`].
    pub(super) fn show(&self, shown: Shown) -> bool {
        let result = TRAY.with(|tray| {
            let Ok(mut tray) = tray.try_borrow_mut() else {
                // Only the right click's handler borrows it meanwhile (on this thread), and it does
                // not call this.
                return Ok(());
            };
            match tray.as_mut() {
                Some(tray) => tray.show(shown),
                None => {
                    listen(self.events.clone());
                    *tray = Some(Tray::new(shown)?);
                    Ok(())
                }
            }
        });
        match result {
            Ok(()) => true,
            Err(why) => {
                let _ = self
                    .events
                    .clone()
                    .try_send(Event::Unavailable(Problem::Failed(why)));
                false
            }
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Elsewhere than the icon's thread there is nothing here to take.
        let _ = TRAY.try_with(|tray| {
            if let Ok(mut tray) = tray.try_borrow_mut() {
                tray.take();
            }
        });
    }
}

/// Sends the icon's clicks and its menu's choices to the app. `tray-icon` and `muda` take one handler
/// each for the whole process, set here the first time.
fn listen(events: Sender<Event>) {
    let clicks = events.clone();
    TrayIconEvent::set_event_handler(Some(move |event: TrayIconEvent| {
        if let TrayIconEvent::Click {
            button,
            button_state,
            ..
        } = event
        {
            match (button, button_state) {
                (MouseButton::Left, MouseButtonState::Up) => {
                    // Full (the app is busy): a click is lost, never the app's thread blocked.
                    let _ = clicks.clone().try_send(Event::Activate);
                }
                // The menu opens when the right button comes up: its check marks first.
                (MouseButton::Right, MouseButtonState::Down) => {
                    let _ = TRAY.try_with(|tray| {
                        if let Ok(tray) = tray.try_borrow()
                            && let Some(tray) = tray.as_ref()
                        {
                            tray.menu.checks(tray.shown.dnd);
                        }
                    });
                }
                _ => {}
            }
        }
    }));
    // muda holds the chosen item borrowed while it calls this: its check mark is not touched here.
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let event = match event.id.as_ref() {
            OPEN => Event::Open,
            ONLINE => Event::DoNotDisturb(false),
            DND => Event::DoNotDisturb(true),
            QUIT => Event::Quit,
            _ => return,
        };
        let _ = events.clone().try_send(event);
    }));
}

//! Notifications on Windows 10 and 11: toasts, shown through WinRT's `ToastNotificationManager` with the
//! `windows` crate (its WinRT calls are safe Rust, so the workspace's ban on `unsafe` holds).
//!
//! Windows shows a toast only for an app it knows by an AppUserModelID. An app installed from a package
//! has one; Ququ, a plain `.exe`, registers its own under the user's `Software\Classes\AppUserModelId`
//! (a name and an icon for the toast and the notification centre), as the Windows Community Toolkit does
//! for unpackaged apps, so no Start-menu shortcut is needed and nothing needs an administrator.
//!
//! One toast per chat: each gets a tag (the id the app keeps for the chat's notification), and showing a
//! toast with the tag of one still there replaces it in the notification centre rather than adding
//! another. A click on it reaches the app through its `Activated` event, while the app runs.
//!
//! What is not here: a click on a toast after the app has quit starts nothing (that needs a COM
//! activator registered for the app), and toasts play Windows' "instant message" sound, not Ququ's own
//! (a toast from an app outside a package can only name the system's sounds). Wine has no toasts:
//! there the first call fails and the settings say why, as on a Linux desktop without a notification
//! service.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use iced::futures::channel::mpsc::UnboundedSender;
use windows::Data::Xml::Dom::XmlDocument;
use windows::Foundation::TypedEventHandler;
use windows::UI::Notifications::{ToastNotification, ToastNotificationManager, ToastNotifier};
use windows::core::{HSTRING, IInspectable};

use super::{Alert, Problem, toast};

/// Ququ's AppUserModelID: what Windows files its toasts under.
const APP_ID: &str = "Ququ.Messenger";

/// Every toast's group, with its tag naming the chat.
const GROUP: &str = "ququ";

/// The avatar's size in the file the toast reads: Windows draws it at 48 px, 96 at 200 % scaling.
const AVATAR: u32 = 96;

/// The app's toasts, on this user's Windows.
pub struct Toasts {
    notifier: ToastNotifier,
    /// Where the ids of clicked toasts go.
    clicks: UnboundedSender<u32>,
    /// The folder where each toast's avatar is written, for Windows to read.
    pictures: PathBuf,
    /// The tag of the next new toast (the app's ids start at 1; 0 means "a new one").
    next: AtomicU32,
}

impl std::fmt::Debug for Toasts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toasts")
            .field("pictures", &self.pictures)
            .finish_non_exhaustive()
    }
}

/// WinRT's words for a failure, or its HRESULT when it has none: Wine's missing toast service fails with
/// an empty message, which Settings showed as "This desktop shows no notifications ()".
fn failed(e: windows::core::Error) -> Problem {
    let message = e.message().trim().to_owned();
    Problem::Failed(if message.is_empty() {
        format!("HRESULT {:#010X}", e.code().0)
    } else {
        message
    })
}

impl Toasts {
    /// Registers Ququ with Windows (its name, and its icon written into `data`) and opens its toast
    /// notifier, or says why there is none. Clicks go to `clicks`.
    pub fn register(data: &Path, clicks: UnboundedSender<u32>) -> Result<Toasts, Problem> {
        let pictures = data.join("notifications");
        std::fs::create_dir_all(&pictures).map_err(|e| Problem::Failed(e.to_string()))?;
        let icon = pictures.join("ququ.png");
        if std::fs::read(&icon).ok().as_deref() != Some(crate::window::about::ICON_PNG) {
            std::fs::write(&icon, crate::window::about::ICON_PNG)
                .map_err(|e| Problem::Failed(e.to_string()))?;
        }
        let key = windows_registry::CURRENT_USER
            .create(format!(r"Software\Classes\AppUserModelId\{APP_ID}"))
            .map_err(failed)?;
        key.set_string("DisplayName", "Ququ").map_err(failed)?;
        key.set_string("IconUri", icon.display().to_string())
            .map_err(failed)?;
        let notifier = ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(APP_ID))
            .map_err(failed)?;
        Ok(Toasts {
            notifier,
            clicks,
            pictures,
            next: AtomicU32::new(1),
        })
    }

    /// Shows `alert` as the toast tagged `replaces` (0: a new one), and returns its tag.
    pub fn show(&self, alert: &Alert, replaces: u32) -> Result<u32, Problem> {
        let id = match replaces {
            0 => self.next.fetch_add(1, Ordering::Relaxed),
            id => id,
        };
        // Without its avatar the toast still goes, with the app's icon.
        let path = self.pictures.join(format!("{id}.png"));
        let picture = alert
            .avatar_picture(AVATAR)
            .save_with_format(&path, image::ImageFormat::Png)
            .is_ok()
            .then_some(path.as_path());
        let xml = XmlDocument::new().map_err(failed)?;
        xml.LoadXml(&HSTRING::from(toast::xml(alert, picture)))
            .map_err(failed)?;
        let toast = ToastNotification::CreateToastNotification(&xml).map_err(failed)?;
        toast
            .SetTag(&HSTRING::from(id.to_string()))
            .map_err(failed)?;
        toast.SetGroup(&HSTRING::from(GROUP)).map_err(failed)?;
        let clicks = self.clicks.clone();
        toast
            .Activated(&TypedEventHandler::<ToastNotification, IInspectable>::new(
                move |_, _| {
                    // The app gone, the click has nowhere to go: nothing to do.
                    let _ = clicks.unbounded_send(id);
                    Ok(())
                },
            ))
            .map_err(failed)?;
        self.notifier.Show(&toast).map_err(failed)?;
        Ok(id)
    }
}

//! Avatars (头像): `AVATAR_OF:` lines (whose avatar is which picture) and `AVATAR:` answers (a picture's
//! bytes). Each picture is fetched once, the first time its digest is met, and kept locally by digest
//! (see `storage/avatars.rs`); a digest already here costs nothing.

use std::collections::{HashMap, HashSet};

use ququ_protocol::{ClientMessage, Conv, ErrorCode, ServerMessage};
use sha2::{Digest, Sha256};

use super::{End, Link, Session};
use crate::event::Event;

/// This connection's avatar fetches.
#[derive(Debug, Default)]
pub(super) struct AvatarState {
    /// Digests asked for with `AVATAR_GET:` and not answered yet, so a list naming the same picture for
    /// many people asks once.
    fetching: HashSet<String>,
}

/// What this client has handed over, across its reconnects: whose picture it last gave the bytes of.
/// A login's lists repeat everyone unchanged; the kept bytes go out again only for someone whose picture
/// changed since (or was never given), not read from the database for each of them at every login.
pub(super) type Handed = HashMap<Conv, String>;

impl Session {
    pub(super) async fn on_avatar_line(
        &mut self,
        link: &mut Link,
        msg: ServerMessage,
    ) -> Result<(), End> {
        match msg {
            ServerMessage::AvatarOf { of, sha256 } => {
                let (o, s) = (of.clone(), sha256.clone());
                let missing = self
                    .store
                    .call(move |st| st.set_avatar_of(&o, s.as_deref()))
                    .await?;
                self.emit(Event::Avatar {
                    of: of.clone(),
                    sha256: sha256.clone(),
                });
                let Some(sha256) = sha256 else {
                    self.avatars_handed.remove(&of);
                    return Ok(());
                };
                if missing {
                    // Its bytes come with the answer.
                    self.avatars_handed.insert(of, sha256.clone());
                    if link.avatars.fetching.insert(sha256.clone()) {
                        link.send(&ClientMessage::GetAvatar { sha256 }).await?;
                    }
                } else if self.avatars_handed.get(&of) != Some(&sha256) {
                    // Here already: handed over (once per change), so whoever shows it needs no storage
                    // of its own.
                    self.avatars_handed.insert(of, sha256.clone());
                    let key = sha256.clone();
                    if let Some(bytes) = self.store.call(move |st| st.avatar(&key)).await? {
                        self.emit(Event::AvatarImage { sha256, bytes });
                    }
                }
            }
            ServerMessage::Avatar { sha256, image } => {
                link.avatars.fetching.remove(&sha256);
                // The digest names the picture; bytes that do not match it are not that picture.
                if hex::encode(Sha256::digest(&image)) != sha256 {
                    tracing::warn!(%sha256, "an avatar's bytes do not match its digest; dropped");
                    return Ok(());
                }
                let (key, bytes) = (sha256.clone(), image.clone());
                self.store
                    .call(move |st| st.put_avatar(&key, &bytes))
                    .await?;
                self.emit(Event::AvatarImage {
                    sha256,
                    bytes: image,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// An `ERROR:` about a picture this connection asked for (it is gone from the server: replaced since
    /// the `AVATAR_OF:` line): nobody waits for it, so it is dropped here. True if it was one.
    pub(super) fn avatar_refused(link: &mut Link, code: &ErrorCode, about: Option<&str>) -> bool {
        *code == ErrorCode::NoSuchFile && about.is_some_and(|a| link.avatars.fetching.remove(a))
    }
}

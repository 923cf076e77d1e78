//! One conversation's messages as the chat window shows them, and how far back they are loaded.

use ququ_protocol::{Mentions, Millis, Quote};

/// Where one of my messages stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Waiting in the outbox or on the wire for the server's ACK.
    Sending,
    /// Stored by the server.
    Sent,
    /// Refused by the server (not friends, too long, …); the bubble offers a retry.
    Failed,
}

/// One message bubble.
///
/// The app's own type rather than the client's [`ququ_client::Message`], because a bubble can exist before
/// the client has a message for it: a file I send shows while it goes up, and becomes a message only once
/// the server stores its offer (the two then merge, by client id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// This device's id for the message (the client's local store); what a retry names.
    pub local_id: Option<i64>,
    /// Server id once stored; history pages are fetched "before" the smallest one.
    pub id: Option<u64>,
    /// The sender's id for the message: matches ACKs and failures to the bubble.
    pub client_id: String,
    pub from: String,
    pub time: Millis,
    pub text: String,
    pub delivery: Delivery,
    /// Set for a file offer: the bubble shows the file instead of `text`. Where the file stands is not
    /// kept here but worked out from the transfers when drawn ([`super::Model::file`]).
    pub file: Option<FileItem>,
    /// The message this one answers, shown above its text.
    pub quote: Option<Quote>,
    /// Who it mentions (`@`), for marking a message that mentions me.
    pub mentions: Mentions,
    /// Its content is gone: recalled (or the record of a recall this device never had the message of).
    pub recalled: Option<Recall>,
    /// Not a message but a change to its group ("A invited B"), drawn as a grey line in words.
    pub change: Option<ququ_client::GroupEvent>,
}

/// Who recalled a message, and whose it was: "alice recalled a message", or, when a group's owner
/// recalled someone else's, "owner recalled a message of alice".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recall {
    pub by: String,
    pub whose: String,
}

impl Line {
    /// One line of text for lists and previews: the text, the file's name behind a marker, or the
    /// picture marker alone (a screenshot's name says nothing).
    pub fn preview(&self, tr: &crate::i18n::Tr) -> String {
        match &self.file {
            Some(file) if file.is_image() => format!("[{}]", tr.picture_word),
            Some(file) => format!("[{}] {}", tr.file_word, file.name),
            None => self.text.clone(),
        }
    }

    /// Whether it mentions `account` (by name or `@all`) and is still there to read.
    pub fn mentions(&self, account: &str) -> bool {
        self.recalled.is_none() && self.from != account && self.mentions.includes(account)
    }
}

/// A file in a message bubble: what the sender offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileItem {
    /// The server's id for the file, once the offer is stored; what Download and Reject name.
    pub file_id: Option<u64>,
    /// The sender's name for the file; for display only, never used as a path as it stands.
    pub name: String,
    pub size: u64,
}

impl FileItem {
    /// Whether the file can be drawn as a picture, judged by its name (the bytes are checked when the
    /// thumbnail is made, off the UI thread).
    pub fn is_image(&self) -> bool {
        is_image_name(&self.name)
    }
}

/// Image types the `image` crate here decodes (its codecs are picked in the workspace manifest).
pub fn is_image_name(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some("png" | "jpg" | "jpeg" | "gif" | "webp")
    )
}

/// How far back a conversation is loaded: the top of the chat list shows "Load earlier", "Loading…"
/// or the beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paging {
    /// No page asked for yet (the chat window asks when it opens).
    #[default]
    Unasked,
    /// A page is on its way, from the local store or the server: don't ask again.
    Loading,
    /// Older messages may exist before the first line.
    More,
    /// The beginning of the conversation is shown.
    Complete,
}

impl Paging {
    /// Whether another page may be asked for now.
    pub fn can_load(self) -> bool {
        matches!(self, Paging::Unasked | Paging::More)
    }
}

/// Whether the lines reach the newest message: the bottom of the chat list pages down to it, or is it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Newer {
    /// The newest message is the last line (what a chat shows unless it jumped).
    #[default]
    Shown,
    /// A jump showed a window around an old message: newer ones exist after the last line, a page at a
    /// time as the list is scrolled down.
    More,
    /// The next page down, or the newest page, is on its way.
    Loading,
}

/// The messages of one conversation that the app has seen, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    /// What the chat shows: the newest messages and the pages back from them, or, after a jump, a window
    /// around the message jumped to ([`Newer`]).
    pub lines: Vec<Line>,
    pub paging: Paging,
    pub newer: Newer,
    /// While the lines do not reach the newest message: the newest ones known, kept apart rather than
    /// shown after a hole — the last line before the jump, and those that came since. Recent and the
    /// unread marks read them; they join the lines when paging down reaches them or the chat goes back
    /// to the newest. Empty otherwise.
    pub beyond: Vec<Line>,
}

/// Where in `lines` the same message as `line` is: the same message can arrive live, from sync and from
/// a history page.
fn same(lines: &[Line], line: &Line) -> Option<usize> {
    lines.iter().position(|l| {
        (line.local_id.is_some() && l.local_id == line.local_id)
            || (line.id.is_some() && l.id == line.id)
            || (!line.client_id.is_empty() && l.client_id == line.client_id && l.from == line.from)
    })
}

/// What a newer copy of a message changes in the line already shown for it.
fn merge(existing: &mut Line, line: Line) {
    existing.id = existing.id.or(line.id);
    existing.local_id = existing.local_id.or(line.local_id);
    if line.id.is_some() {
        existing.time = line.time;
    }
    if existing.delivery != Delivery::Sent {
        existing.delivery = line.delivery;
    }
    // A recall takes the text (and the file) away; a quote's text goes when its message is
    // recalled.
    if line.recalled.is_some() {
        existing.recalled = line.recalled;
        existing.text = line.text;
        existing.file = None;
        existing.quote = None;
        return;
    }
    if line.quote.is_some() {
        existing.quote = line.quote;
    }
    // A file bubble shown while going up learns its server id from the stored offer.
    if let Some(mut file) = line.file {
        if let Some(old) = &existing.file {
            file.file_id = file.file_id.or(old.file_id);
        }
        existing.file = Some(file);
    }
}

/// Inserts or updates a line of `lines`, keeping it sorted and free of duplicates. True if it was new.
fn upsert_into(lines: &mut Vec<Line>, line: Line) -> bool {
    if let Some(at) = same(lines, &line) {
        merge(&mut lines[at], line);
        return false;
    }
    // Messages being sent have no id and go last; stored ones sort by id (server order).
    let position = match line.id {
        Some(id) => lines
            .iter()
            .position(|l| l.id.is_none_or(|other| other > id))
            .unwrap_or(lines.len()),
        None => lines.len(),
    };
    lines.insert(position, line);
    true
}

impl Conversation {
    /// Inserts or updates a line, keeping the list sorted and free of duplicates: the same message can
    /// arrive live, from sync and from a history page. Returns true if the line was new here.
    ///
    /// While the lines are a window that does not reach the newest message, a message newer than the
    /// window (a live one, or my own from another device) is kept [`Conversation::beyond`] it rather
    /// than shown after a hole; one already shown, or older than the last line, goes in its place.
    pub fn upsert(&mut self, line: Line) -> bool {
        if self.newer == Newer::Shown {
            return upsert_into(&mut self.lines, line);
        }
        if let Some(at) = same(&self.lines, &line) {
            merge(&mut self.lines[at], line);
            return false;
        }
        let last_shown = self.lines.iter().filter_map(|l| l.id).max();
        let within = matches!((line.id, last_shown), (Some(id), Some(last)) if id < last);
        if within {
            upsert_into(&mut self.lines, line)
        } else {
            upsert_into(&mut self.beyond, line)
        }
    }

    /// Whether the lines stop short of the newest message (after a jump).
    pub fn detached(&self) -> bool {
        self.newer != Newer::Shown
    }

    /// The lines are replaced by a window around an old message, `after_full` if it has as many newer
    /// ones as were asked (so more may follow). One that reaches the newest is the chat as usual.
    pub fn show_window(&mut self, window: Vec<Line>, after_full: bool) {
        if !self.detached() {
            // The newest known line stays known for Recent; the rest are read again when wanted.
            self.beyond.extend(self.lines.pop());
        }
        self.lines = window;
        self.paging = Paging::More;
        self.newer = Newer::More;
        if !after_full {
            self.join_beyond();
        }
    }

    /// A page of messages newer than the last line arrived; a short one reached the newest.
    pub fn newer_page(&mut self, page: Vec<Line>, full: bool) {
        for line in page {
            upsert_into(&mut self.lines, line);
        }
        if full {
            self.newer = Newer::More;
        } else {
            self.join_beyond();
        }
    }

    /// Back to the newest messages: the window goes, with what is known beyond it kept, and the chat
    /// reads its newest page again as when it first opened ([`Paging::Unasked`]).
    pub fn back_to_newest(&mut self) {
        self.lines = std::mem::take(&mut self.beyond);
        self.newer = Newer::Shown;
        self.paging = Paging::Unasked;
    }

    /// The lines reach the newest message: those kept beyond them join them.
    fn join_beyond(&mut self) {
        self.newer = Newer::Shown;
        for line in std::mem::take(&mut self.beyond) {
            upsert_into(&mut self.lines, line);
        }
    }

    /// A message deleted from this device goes wherever it is kept.
    pub fn forget(&mut self, local_id: i64) {
        self.lines.retain(|l| l.local_id != Some(local_id));
        self.beyond.retain(|l| l.local_id != Some(local_id));
    }

    pub fn oldest_local_id(&self) -> Option<i64> {
        self.lines.first().and_then(|l| l.local_id)
    }

    /// The last line's local id, to page down from.
    pub fn newest_local_id(&self) -> Option<i64> {
        self.lines.iter().rev().find_map(|l| l.local_id)
    }

    pub fn oldest_id(&self) -> Option<u64> {
        self.lines.iter().filter_map(|l| l.id).min()
    }

    /// The newest message known, for Recent and the tray: the last line, or after a jump the newest
    /// kept beyond the window.
    pub fn last(&self) -> Option<&Line> {
        if self.detached() {
            self.beyond.last().or(self.lines.last())
        } else {
            self.lines.last()
        }
    }

    /// The newest messages known, newest first (for the unread ones' mentions): the lines, or after a
    /// jump those kept beyond the window.
    pub fn newest_first(&self) -> impl Iterator<Item = &Line> {
        let newest = if self.detached() {
            &self.beyond
        } else {
            &self.lines
        };
        newest.iter().rev()
    }
}

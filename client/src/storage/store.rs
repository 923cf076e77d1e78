//! [`Store`]: the async, cloneable front of [`Storage`]. One dedicated thread owns the SQLite connection and
//! runs jobs in the order they were sent, so writes from the connection task and reads from a user interface
//! never block an async runtime, and a message queued before another is stored before it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::mpsc;

use ququ_protocol::Conv;
use tokio::sync::oneshot;

use super::{SearchFilter, Storage, StorageError};
use crate::event::{Category, Conversation, Friend, FriendRequest, Group, Message};
use crate::transfer::Transfer;

type Job = Box<dyn FnOnce(Result<&mut Storage, &StorageError>) + Send>;

/// Async access to the local database. Cheap to clone; every method returns a `'static` future, so a GUI can
/// hand it straight to its executor (e.g. iced's `Task::perform`). The thread exits when the last clone is
/// dropped.
#[derive(Clone, Debug)]
pub struct Store {
    tx: mpsc::Sender<Job>,
}

impl Store {
    /// Starts the storage thread, which opens `path`. If opening fails every call answers
    /// [`StorageError::Unavailable`]; [`Store::ready`] reports it.
    pub fn open(path: PathBuf) -> Store {
        Self::spawn(move || Storage::open(&path))
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Store {
        Self::spawn(Storage::open_in_memory)
    }

    fn spawn(open: impl FnOnce() -> Result<Storage, StorageError> + Send + 'static) -> Store {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("ququ-storage".into())
            .spawn(move || {
                let mut storage = open();
                if let Err(e) = &storage {
                    tracing::error!("cannot open the local database: {e}");
                }
                while let Ok(job) = rx.recv() {
                    job(storage.as_mut().map_err(|e| &*e));
                }
            });
        if let Err(e) = spawned {
            // Without a thread every call fails with `Closed`, which the client reports as a storage stop.
            tracing::error!("cannot start the storage thread: {e}");
        }
        Store { tx }
    }

    /// Runs `f` on the storage thread.
    pub(crate) fn call<R, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<R, StorageError>> + Send + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut Storage) -> Result<R, StorageError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |storage| {
            let result = match storage {
                Ok(storage) => f(storage),
                Err(e) => Err(StorageError::Unavailable(e.to_string())),
            };
            let _ = reply.send(result);
        });
        let queued = self.tx.send(job).is_ok();
        async move {
            if !queued {
                return Err(StorageError::Closed);
            }
            answer.await.unwrap_or(Err(StorageError::Closed))
        }
    }

    /// Resolves once the database is open, or with the reason it could not be.
    pub fn ready(&self) -> impl Future<Output = Result<(), StorageError>> + Send + 'static {
        self.call(|s| s.schema_version().map(|_| ()))
    }

    /// Every conversation, most recent first, with unread counts and last message.
    pub fn conversations(
        &self,
    ) -> impl Future<Output = Result<Vec<Conversation>, StorageError>> + Send + 'static {
        self.call(|s| s.conversations())
    }

    /// Up to `limit` messages of `conv`, oldest first, older than local id `before` (newest if `None`).
    pub fn messages(
        &self,
        conv: Conv,
        before: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.messages(&conv, before, limit))
    }

    /// [`Storage::messages_around`]: a message with `before` older and `after` newer ones around it (empty
    /// if it is not stored here), off the caller's thread.
    pub fn messages_around(
        &self,
        conv: Conv,
        server_id: u64,
        before: u32,
        after: u32,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.messages_around(&conv, server_id, before, after))
    }

    /// [`Storage::messages_after`]: up to `limit` messages of `conv` newer than local id `after`.
    pub fn messages_after(
        &self,
        conv: Conv,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.messages_after(&conv, after, limit))
    }

    /// Full-text search over local history, newest first.
    pub fn search(
        &self,
        query: String,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.search(&query, limit))
    }

    /// Full-text search within a conversation and a span of time, newest first (the history window).
    pub fn search_in(
        &self,
        query: String,
        filter: SearchFilter,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.search_in(&query, &filter, limit))
    }

    /// A conversation's messages within a span of time, oldest first ([`Storage::browse`]).
    pub fn browse(
        &self,
        filter: SearchFilter,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.browse(&filter, limit))
    }

    /// A conversation's unread count.
    pub fn unread(
        &self,
        conv: Conv,
    ) -> impl Future<Output = Result<u32, StorageError>> + Send + 'static {
        self.call(move |s| s.unread(&conv))
    }

    /// The stored message with this server id, if this device has it (to find the conversation of a message
    /// named by its id, or the message a reply quotes).
    pub fn message_by_server_id(
        &self,
        server_id: u64,
    ) -> impl Future<Output = Result<Option<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.message_by_server_id(server_id))
    }

    /// "Delete for me": removes a message from this device for good (a sync does not bring it back).
    /// Returns it, or `None` if it was not here.
    pub fn delete_message(
        &self,
        local_id: i64,
    ) -> impl Future<Output = Result<Option<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.delete_message(local_id))
    }

    /// Sets a conversation's unread count to zero. Prefer [`crate::Handle::mark_read`], which also emits
    /// [`crate::Event::Unread`].
    pub fn mark_read(
        &self,
        conv: Conv,
    ) -> impl Future<Output = Result<(), StorageError>> + Send + 'static {
        self.call(move |s| s.mark_read(&conv))
    }

    pub fn friends(
        &self,
    ) -> impl Future<Output = Result<Vec<Friend>, StorageError>> + Send + 'static {
        self.call(|s| s.friends())
    }

    /// My friend groups in their order, the default one left out.
    pub fn categories(
        &self,
    ) -> impl Future<Output = Result<Vec<Category>, StorageError>> + Send + 'static {
        self.call(|s| s.categories())
    }

    /// The digest of a user's or group's avatar, as last told ([`Storage::avatar_of`]).
    pub fn avatar_of(
        &self,
        of: Conv,
    ) -> impl Future<Output = Result<Option<String>, StorageError>> + Send + 'static {
        self.call(move |s| s.avatar_of(&of))
    }

    /// A picture kept here, by digest ([`Storage::avatar`]).
    pub fn avatar(
        &self,
        sha256: String,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StorageError>> + Send + 'static {
        self.call(move |s| s.avatar(&sha256))
    }

    /// Every avatar whose picture is here ([`Storage::avatars`]): what to show before the server speaks.
    pub fn avatars(
        &self,
    ) -> impl Future<Output = Result<Vec<(Conv, String)>, StorageError>> + Send + 'static {
        self.call(|s| s.avatars())
    }

    pub fn groups(
        &self,
    ) -> impl Future<Output = Result<Vec<Group>, StorageError>> + Send + 'static {
        self.call(|s| s.groups())
    }

    pub fn friend_requests(
        &self,
    ) -> impl Future<Output = Result<Vec<FriendRequest>, StorageError>> + Send + 'static {
        self.call(|s| s.requests())
    }

    /// My messages not yet acknowledged by the server, oldest first.
    pub fn pending(
        &self,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(|s| s.pending())
    }

    /// The display name of a conversation.
    pub fn title(
        &self,
        conv: Conv,
    ) -> impl Future<Output = Result<String, StorageError>> + Send + 'static {
        self.call(move |s| s.title(&conv))
    }

    /// Every file transfer this device knows, newest first.
    pub fn transfers(
        &self,
    ) -> impl Future<Output = Result<Vec<Transfer>, StorageError>> + Send + 'static {
        self.call(|s| s.transfers())
    }

    /// The file messages of one conversation, oldest first.
    pub fn files(
        &self,
        conv: Conv,
    ) -> impl Future<Output = Result<Vec<Message>, StorageError>> + Send + 'static {
        self.call(move |s| s.files(&conv))
    }
}

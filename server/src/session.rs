//! One connection: read lines, hand them to the service, write replies and pushed lines.
//!
//! The loop `select!`s over the socket, the session's outbox (which also carries the slow-reader signal),
//! the answers of message sends in flight, a heartbeat tick and server shutdown. Only framing violations (an over-long line, a broken socket) end it; a bad request gets
//! an `ERROR:` line and the loop carries on.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use ququ_protocol::{ClientMessage, CodecError, ErrorCode, LineCodec, ServerMessage};

use crate::service::hub::{Outbox, Piece, Taken};
use crate::service::{Pending, Services, SessionCtx, SessionId, SessionLink, now_millis};
use crate::storage::ConnectionRecord;

/// A connection's reading half: a TCP socket's, or a TLS stream's.
pub(crate) type Reader = Box<dyn AsyncRead + Send + Unpin>;
/// A connection's writing half.
pub(crate) type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// The read buffer a connection starts with: room for a login line (`RESUME:` with its token is about
/// 100 bytes); it grows for a longer line.
const READ_BUFFER: usize = 256;

/// Most queued lines written per flush, so one busy session cannot starve its own reads.
const BATCH: usize = 256;

/// Most message sends one session has in flight: it reads the next request while earlier messages wait
/// for their batch to be committed, so a client that pipelines its messages gets them group-committed.
const PIPELINE: usize = 64;

/// Why a connection ended; only for the log.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("client closed the connection")]
    Eof,
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    #[error("line too long")]
    LineTooLong,
    #[error("client did not read in time")]
    SlowReader,
    #[error("idle too long")]
    Idle,
    #[error("server shutting down")]
    Shutdown,
    #[error("logged out")]
    LoggedOut,
    #[error("ended: account disabled or password changed")]
    Ended,
}

/// Writes whole batches of lines. No buffer is kept between batches: an idle connection (most of them)
/// holds no write buffer at all, and a batch goes out in one write however many lines it has.
struct LineWriter {
    inner: Writer,
    timeout: Duration,
}

/// Runs a write, which fails as [`SessionError::SlowReader`] if it takes longer than `timeout`. The
/// timer is only made if the write has to wait, and then on the heap: nearly every write goes straight
/// into the socket's buffer, so a timer registered and removed for each (several per group message
/// under load, one per recipient) was CPU spent for nothing, and a timer inline in the session's
/// state was about a hundred bytes more for every connection, idle or not.
async fn within(
    timeout: Duration,
    work: impl Future<Output = std::io::Result<()>>,
) -> Result<(), SessionError> {
    let mut work = std::pin::pin!(work);
    let mut deadline: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(done.map_err(SessionError::from));
        }
        let deadline = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        deadline
            .as_mut()
            .poll(cx)
            .map(|()| Err(SessionError::SlowReader))
    })
    .await
}

/// Replies, each with its `\n`, in one buffer.
fn joined(msgs: &[ServerMessage]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for msg in msgs {
        bytes.extend_from_slice(msg.format().as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

impl LineWriter {
    /// Writes bytes and flushes.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        let inner = &mut self.inner;
        let work = async move {
            inner.write_all(bytes).await?;
            inner.flush().await
        };
        within(self.timeout, work).await
    }

    /// Writes queued pieces (whole lines) as one vectored write: no copy of any line, one system call
    /// for the whole batch unless the socket's buffer fills.
    async fn send_lines(&mut self, pieces: &[Piece]) -> Result<(), SessionError> {
        if let [piece] = pieces {
            return self.send(&piece.bytes).await;
        }
        if !self.inner.is_write_vectored() {
            let all: Vec<&[u8]> = pieces.iter().map(|p| &p.bytes[..]).collect();
            return self.send(&all.concat()).await;
        }
        let timeout = self.timeout;
        let inner = &mut self.inner;
        let work = async move {
            let mut slices: Vec<IoSlice<'_>> =
                pieces.iter().map(|p| IoSlice::new(&p.bytes)).collect();
            let mut bufs = &mut slices[..];
            while !bufs.is_empty() {
                let n = inner.write_vectored(bufs).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::WriteZero.into());
                }
                IoSlice::advance_slices(&mut bufs, n);
            }
            inner.flush().await
        };
        within(timeout, work).await
    }

    /// Waits for every message send in flight, in order, and writes their replies in one write.
    async fn finish(&mut self, pending: &mut VecDeque<Pending>) -> Result<(), SessionError> {
        let mut replies = Vec::new();
        while let Some(answer) = pending.pop_front() {
            replies.extend(answer.await.replies);
        }
        if replies.is_empty() {
            return Ok(());
        }
        self.send_msgs(&replies).await
    }

    async fn send_msgs(&mut self, msgs: &[ServerMessage]) -> Result<(), SessionError> {
        self.send(&joined(msgs)).await
    }

    /// A last line before closing; failure does not matter any more.
    async fn goodbye(&mut self, code: ErrorCode, text: &str) {
        let bye = ServerMessage::Bye {
            code,
            text: text.into(),
        };
        let bytes = joined(&[bye]);
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            self.inner.write_all(&bytes).await?;
            self.inner.flush().await
        })
        .await;
    }
}

/// Serves one accepted connection until it ends.
pub(crate) async fn serve(
    read: Reader,
    write: Writer,
    peer: SocketAddr,
    id: SessionId,
    services: Arc<Services>,
    shutdown: CancellationToken,
) {
    let config = services.config();
    // A small buffer to start with (it grows for a long line): most connections are idle most of the time,
    // and the default 8 KiB each is most of what 10,000 of them would cost.
    let mut lines = FramedRead::with_capacity(
        read,
        LineCodec::new(config.limits.line as usize),
        READ_BUFFER,
    );
    let mut writer = LineWriter {
        inner: write,
        timeout: config.write_timeout,
    };
    let outbox = Outbox::new(config.outbox_capacity);
    let mut ctx = SessionCtx {
        id,
        peer: peer.ip(),
        link: SessionLink {
            id,
            outbox: outbox.clone(),
        },
        caller: None,
    };
    let record = ConnectionRecord {
        conn_id: id,
        account: None,
        ip: peer.ip().to_string(),
        port: peer.port(),
        since: now_millis(),
        // Filed by the store under its own node.
        node: None,
    };
    if let Err(e) = services.db(move |s| s.add_connection(&record)).await {
        tracing::warn!(error = %e, "could not record connection");
    }

    let heartbeat = config.heartbeat;
    let idle_timeout = config.idle_timeout;
    let mut tick = tokio::time::interval(heartbeat.min(idle_timeout) / 2);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut pinged = false;
    let mut nonce = 0u64;
    // Message sends whose answers are still to come, oldest first. Answers go out in this order, and
    // any other request waits until these are answered (it may depend on them).
    let mut pending: VecDeque<Pending> = VecDeque::new();

    let end: End = loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                writer.goodbye(ErrorCode::Shutdown, "the server is shutting down").await;
                break End::Closed(SessionError::Shutdown);
            }
            // What others sent this client goes out before its next request is read: a client that
            // sends fast and reads everything must not fill its own outbox (and be cut off as a slow
            // reader) just because its requests were always served first.
            taken = outbox.take(BATCH) => {
                let mut batch = match taken {
                    Taken::Lines(batch) => batch,
                    Taken::Slow => {
                        writer.goodbye(ErrorCode::SlowReader, "you were not reading fast enough").await;
                        break End::Closed(SessionError::SlowReader);
                    }
                    Taken::Ended(code, text) => {
                        writer.goodbye(code, &text).await;
                        break End::Closed(SessionError::Ended);
                    }
                };
                if let Err(e) = writer.send_lines(batch.make_contiguous()).await {
                    break End::Closed(e);
                }
                outbox.recycle(batch);
            }
            // The oldest message send is answered: write its reply with those of any others already
            // answered after it.
            outcome = async { pending.front_mut().expect("guarded").as_mut().await }, if !pending.is_empty() => {
                pending.pop_front();
                let mut replies = outcome.replies;
                while let Some(next) = pending.front_mut().and_then(|p| p.as_mut().now_or_never()) {
                    pending.pop_front();
                    replies.extend(next.replies);
                }
                if let Err(e) = writer.send_msgs(&replies).await {
                    break End::Closed(e);
                }
            }
            frame = lines.next(), if pending.len() < PIPELINE => {
                let text = match frame {
                    None => break End::Closed(SessionError::Eof),
                    Some(Err(CodecError::LineTooLong { max })) => {
                        let _ = writer.finish(&mut pending).await;
                        let err = ServerMessage::error(
                            ErrorCode::LineTooLong,
                            format!("a line may have at most {max} bytes; closing"),
                        );
                        let _ = writer.send_msgs(&[err]).await;
                        break End::Closed(SessionError::LineTooLong);
                    }
                    Some(Err(CodecError::Io(e))) => break End::Closed(SessionError::Io(e)),
                    Some(Ok(Err(_not_utf8))) => {
                        if let Err(e) = writer.finish(&mut pending).await {
                            break End::Closed(e);
                        }
                        let err = ServerMessage::error(ErrorCode::BadRequest, "the line is not valid UTF-8");
                        if let Err(e) = writer.send_msgs(&[err]).await {
                            break End::Closed(e);
                        }
                        continue;
                    }
                    Some(Ok(Ok(text))) => text,
                };
                last_heard = Instant::now();
                pinged = false;
                // Blank lines are what `nc` users send by accident; they mean nothing.
                if text.trim().is_empty() {
                    continue;
                }
                // A last line that the connection's end cut off may be any prefix of what was meant
                // (`MSG:bob:c1:hel` of `hello`, `GROUP_KICK:12` of `123`): refused, never carried out.
                if lines.decoder().cut_short() {
                    if let Err(e) = writer.finish(&mut pending).await {
                        break End::Closed(e);
                    }
                    if let Err(e) = writer.send_msgs(&[cut_short(&text)]).await {
                        break End::Closed(e);
                    }
                    continue;
                }
                let outcome = match ClientMessage::parse(&text) {
                    // A data connection announces itself on its first line, before any login.
                    Ok(msg @ (ClientMessage::FilePut { .. } | ClientMessage::FileGet { .. }))
                        if ctx.caller.is_none() =>
                    {
                        break End::Data(msg);
                    }
                    Ok(msg) => {
                        tracing::debug!(session = id, verb = msg.verb(), "request");
                        let msg = match services.start_message(&ctx, msg) {
                            Ok(answer) => {
                                pending.push_back(answer);
                                continue;
                            }
                            Err(msg) => msg,
                        };
                        if let Err(e) = writer.finish(&mut pending).await {
                            break End::Closed(e);
                        }
                        // Boxed: the biggest request's state would otherwise sit inline in every
                        // connection's task for its whole life, idle or not.
                        Box::pin(services.handle(&mut ctx, msg)).await
                    }
                    Err(e) => {
                        if let Err(e) = writer.finish(&mut pending).await {
                            break End::Closed(e);
                        }
                        vec![ServerMessage::error(e.code(), e.to_string())].into()
                    }
                };
                if let Err(e) = writer.send_msgs(&outcome.replies).await {
                    break End::Closed(e);
                }
                if outcome.close {
                    break End::Closed(SessionError::LoggedOut);
                }
            }
            _ = tick.tick() => {
                let silent = last_heard.elapsed();
                if silent >= idle_timeout {
                    writer.goodbye(ErrorCode::Timeout, "no sign of life; closing").await;
                    break End::Closed(SessionError::Idle);
                }
                if silent >= heartbeat && !pinged {
                    nonce += 1;
                    pinged = true;
                    if let Err(e) = writer.send_msgs(&[ServerMessage::Ping { nonce }]).await {
                        break End::Closed(e);
                    }
                }
            }
        }
    };
    if let End::Data(msg) = end {
        outbox.close();
        Box::pin(transfer(lines, writer, msg, &services)).await;
        Box::pin(services.disconnected(&ctx)).await;
        return;
    }
    if let End::Closed(SessionError::Eof) = &end {
        // A client that sent its messages and closed its side still gets their acknowledgements.
        let _ = writer.finish(&mut pending).await;
    }
    drop(pending);
    outbox.close();
    if let End::Closed(end) = &end {
        match end {
            SessionError::Eof | SessionError::LoggedOut | SessionError::Shutdown => {
                tracing::debug!(session = id, %peer, reason = %end, "connection closed")
            }
            _ => tracing::info!(session = id, %peer, reason = %end, "connection closed"),
        }
    }
    Box::pin(services.disconnected(&ctx)).await;
}

/// The refusal of a last line that ended without its `\n`, about the message's `client_id` if it was a
/// message, so the client knows which one to send again.
fn cut_short(text: &str) -> ServerMessage {
    let about = match ClientMessage::parse(text) {
        Ok(
            ClientMessage::Msg { client_id, .. }
            | ClientMessage::GroupMsg { client_id, .. }
            | ClientMessage::FileOffer { client_id, .. },
        ) => Some(client_id),
        _ => None,
    };
    ServerMessage::Error {
        code: ErrorCode::BadRequest,
        text:
            "the connection closed before this line's newline; it may be cut short, so it was not \
               carried out"
                .into(),
        about,
    }
}

/// How the chat loop ended.
enum End {
    Closed(SessionError),
    /// The first line was `FILE_PUT:`/`FILE_GET:`: the rest of the connection is raw file bytes.
    Data(ClientMessage),
}

/// Runs a data connection: the bytes after the first line are the file (upload) or the reply is (download).
async fn transfer(
    lines: FramedRead<Reader, LineCodec>,
    mut writer: LineWriter,
    msg: ClientMessage,
    services: &Services,
) {
    // Bytes that arrived with the first line are already in the codec's buffer: they come first.
    let parts = lines.into_parts();
    let buffered = std::io::Cursor::new(parts.read_buf.to_vec());
    let mut bytes = tokio::io::AsyncReadExt::chain(buffered, parts.io);
    let result = match msg {
        ClientMessage::FilePut { token, offset } => services
            .receive_upload(&token, offset, &mut bytes)
            .await
            .map(Some),
        ClientMessage::FileGet { token, offset } => services
            .send_download(&token, offset, &mut writer.inner)
            .await
            .map(|()| None),
        _ => Ok(None),
    };
    let reply = match result {
        Ok(reply) => reply,
        Err(e) => Some(e.to_message()),
    };
    if let Some(reply) = reply {
        let _ = writer.send_msgs(&[reply]).await;
    }
    let _ = writer.inner.shutdown().await;
}

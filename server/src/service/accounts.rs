//! Accounts: register, log in (password or resume token), log out, nickname, password.

use rand::RngCore;
use sha2::{Digest, Sha256};

use std::net::IpAddr;

use std::collections::HashSet;

use ququ_protocol::Feature;
use ququ_protocol::{Conv, ErrorCode, Features, Presence, ProfileChange, ServerMessage};

use super::hub::Forms;
use super::hub::Wakes;
use super::throttle::{Attempt, Verdict};

use super::{
    Caller, Outcome, Result, ServiceError, Services, SessionCtx, SessionId, check_name, line,
    now_millis,
};
use crate::storage::{StoreError, UserId, UserRecord};

const MIN_PASSWORD: usize = 6;
const MAX_PASSWORD: usize = 128;

/// Account names: 2–32 of ASCII letters, digits, `_`, `.`, `-`, starting with a letter or digit. They are
/// typed into `nc` and other people's search boxes, so they stay plain; nicknames can be anything.
pub(crate) fn valid_account(account: &str) -> bool {
    (2..=32).contains(&account.len())
        && account.starts_with(|c: char| c.is_ascii_alphanumeric())
        && account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

pub(crate) fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(ServiceError::refused(
            ErrorCode::InvalidPassword,
            format!("a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// Tokens are stored only as their SHA-256, so a copy of the database cannot resume anyone's session.
pub(super) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Services {
    /// `RESIGER:` never fails with `ERROR:`; its reply is always `RESIGER:true` or `RESIGER:false`.
    pub(super) async fn register(
        &self,
        peer: IpAddr,
        account: String,
        password: String,
        nickname: Option<String>,
    ) -> ServerMessage {
        if let Verdict::Blocked(secs) = self.throttle(Attempt::Register { ip: peer }).await {
            return ServerMessage::RegisterFailed {
                code: ErrorCode::RateLimited,
                text: format!("too many attempts from your address; try again in {secs} s"),
            };
        }
        let result = self.try_register(account, password, nickname).await;
        if let Err(e) = &result {
            let refused = matches!(e, ServiceError::Refused { .. });
            self.throttle(Attempt::RegisterUndone { ip: peer, refused })
                .await;
        }
        match result {
            Ok(account) => ServerMessage::RegisterOk { account },
            Err(err) => match err.to_message() {
                ServerMessage::Error { code, text, .. } => {
                    ServerMessage::RegisterFailed { code, text }
                }
                other => other,
            },
        }
    }

    async fn try_register(
        &self,
        account: String,
        password: String,
        nickname: Option<String>,
    ) -> Result<String> {
        if !valid_account(&account) {
            return Err(ServiceError::refused(
                ErrorCode::InvalidAccount,
                "an account name has 2 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit",
            ));
        }
        check_password(&password)?;
        let nickname = nickname
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| account.clone());
        check_name("nickname", &nickname, self.config.limits.name, false)?;
        let hash = self.hashing.hash(password).await?;
        let now = now_millis();
        let created = {
            let account = account.clone();
            self.db(move |s| s.create_user(&account, &nickname, &hash, now))
                .await
        };
        match created {
            Ok(user) => {
                tracing::info!(account = %user.account, "account registered");
                Ok(user.account)
            }
            Err(ServiceError::Store(StoreError::Conflict)) => Err(ServiceError::refused(
                ErrorCode::AccountTaken,
                format!("the account name {account} is taken"),
            )),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn login(
        &self,
        ctx: &mut SessionCtx,
        account: String,
        password: String,
    ) -> Result<ServerMessage> {
        if ctx.caller.is_some() {
            return Err(ServiceError::refused(
                ErrorCode::AlreadyLoggedIn,
                "this connection is already logged in",
            ));
        }
        // Counted now, before the password is hashed: parallel guesses are counted like serial ones.
        let attempt = Attempt::Login {
            ip: ctx.peer,
            account: account.clone(),
        };
        match self.throttle(attempt).await {
            Verdict::Allow => {}
            Verdict::Delay(d) => tokio::time::sleep(d).await,
            Verdict::Blocked(secs) => return Ok(throttled(secs)),
        }
        let lookup = account.clone();
        let user = self.db(move |s| s.user_by_account(&lookup)).await?;
        let ok = match &user {
            Some(user) => {
                self.hashing
                    .verify(password, user.password_hash.clone())
                    .await?
            }
            None => false,
        };
        let user = match user {
            Some(user) if ok => user,
            _ => {
                return Ok(ServerMessage::LoginFailed {
                    code: ErrorCode::BadCredentials,
                    text: "wrong account or password".into(),
                });
            }
        };
        if user.disabled {
            return Ok(disabled());
        }
        let succeeded = Attempt::LoginSucceeded {
            ip: ctx.peer,
            account: account.clone(),
        };
        self.throttle(succeeded).await;
        let token = new_token();
        let hash = token_hash(&token);
        let expires = now_millis().saturating_add(self.config.token_ttl.as_millis() as u64);
        let (uid, stored) = (user.id, hash.clone());
        match self
            .db(move |s| s.create_token(uid, &stored, expires))
            .await
        {
            Ok(()) => {}
            // On a full disk the user still logs in, to read (issue 20, item 10); the token is not
            // kept, so resuming with it later fails and the client logs in with the password again.
            Err(ServiceError::Refused {
                code: ErrorCode::StorageFull,
                ..
            }) => tracing::warn!("a session token could not be stored: the disk is full"),
            Err(e) => return Err(e),
        }
        let verified = Some(user.password_hash.clone());
        Ok(self.logged_in(ctx, user, token, hash, verified).await)
    }

    pub(super) async fn resume(
        &self,
        ctx: &mut SessionCtx,
        account: String,
        token: String,
    ) -> Result<ServerMessage> {
        if ctx.caller.is_some() {
            return Err(ServiceError::refused(
                ErrorCode::AlreadyLoggedIn,
                "this connection is already logged in",
            ));
        }
        // A valid token is a known device: it is never throttled, so guesses from its address (an
        // office behind one NAT address) cannot lock it out. The check is a SHA-256 lookup, cheap enough
        // to make before looking at the throttle; only a bad token counts against its address.
        let hash = token_hash(&token);
        let (lookup, now) = (hash.clone(), now_millis());
        let user = self
            .db(move |s| {
                Ok(match s.token_user(&lookup, now)? {
                    Some(id) => s.user_by_id(id)?,
                    None => None,
                })
            })
            .await?;
        let user = match user {
            Some(user) if user.account.eq_ignore_ascii_case(&account) => user,
            _ => {
                if let Verdict::Blocked(secs) =
                    self.throttle(Attempt::Blocked { ip: ctx.peer }).await
                {
                    return Ok(throttled(secs));
                }
                self.throttle(Attempt::Failed { ip: ctx.peer }).await;
                return Ok(ServerMessage::LoginFailed {
                    code: ErrorCode::BadToken,
                    text: "the session has expired; log in with your password".into(),
                });
            }
        };
        if user.disabled {
            return Ok(disabled());
        }
        Ok(self.logged_in(ctx, user, token, hash, None).await)
    }

    /// Registers the session in the hub and the connection table, and tells friends if this is the
    /// user's first session. `verified` is the password hash a password login was checked against.
    async fn logged_in(
        &self,
        ctx: &mut SessionCtx,
        user: UserRecord,
        token: String,
        token_hash: String,
        verified: Option<String>,
    ) -> ServerMessage {
        let caller = Caller {
            user: user.id,
            account: user.account.clone(),
            token_hash: token_hash.clone(),
        };
        let (conn, uid) = (ctx.id, user.id);
        // Cluster mode: the store decides whether this is the user's first session on any node, and
        // every node, this one too, tells their friends from its record (`passing.rs`).
        let cluster = self.passer.is_some();
        let arrived = self
            .db(move |s| s.arrive(conn, uid))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not record the connection's account");
                false
            });
        ctx.link.outbox.logged_in_at(now_millis());
        let first_here = self.hub.attach(user.id, ctx.link.clone());
        // The account may have been disabled, or its password changed, while this login was being
        // checked (Argon2 takes a while), and the sessions ended then did not include this one yet. Now
        // that it is in the hub, any later change ends it; an earlier one shows here (issue 20, item 2).
        if let Some(refusal) = self.changed_since(&user, &token_hash, verified).await {
            self.hub.detach(user.id, ctx.id);
            // Lines queued for it while it was in the hub are not for a refused login.
            ctx.link.outbox.clear();
            let hash = token_hash.clone();
            if let Err(e) = self.db(move |s| s.revoke_token(&hash)).await {
                tracing::warn!(error = %e, "could not revoke a refused login's token");
            }
            return refusal;
        }
        ctx.caller = Some(caller.clone());
        tracing::info!(account = %user.account, session = ctx.id, "logged in");
        if cluster {
            if arrived {
                self.presence_passed().await;
            }
        } else if first_here {
            self.announce_presence(caller.user, &caller.account, Presence::Online)
                .await;
        }
        ServerMessage::LoginOk {
            user_id: user.id as u64,
            account: user.account,
            nickname: user.nickname,
            token,
            limits: self.config.limits,
        }
    }

    /// The refusal a login gets if, since it was checked, the account was disabled, the token revoked or
    /// the password changed; `None` if nothing changed (or the check itself failed: the login stands, as
    /// it would have a moment earlier).
    async fn changed_since(
        &self,
        user: &UserRecord,
        token_hash: &str,
        verified: Option<String>,
    ) -> Option<ServerMessage> {
        let (uid, hash) = (user.id, token_hash.to_owned());
        // Revoked is the question, not expired (it was live when the login was checked): any expiry
        // time counts as live here.
        let current = self
            .db(move |s| Ok((s.user_by_id(uid)?, s.token_user(&hash, 0)?)))
            .await;
        let (current, token) = match current {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "could not check a new session");
                return None;
            }
        };
        match current {
            Some(u) if u.disabled => Some(disabled()),
            None => Some(disabled()),
            Some(u) if verified.is_some_and(|h| h != u.password_hash) => {
                Some(ServerMessage::LoginFailed {
                    code: ErrorCode::BadCredentials,
                    text: "wrong account or password".into(),
                })
            }
            _ if token.is_none() => Some(ServerMessage::LoginFailed {
                code: ErrorCode::BadToken,
                text: "the session has expired; log in with your password".into(),
            }),
            _ => None,
        }
    }

    pub(super) async fn logout(&self, ctx: &mut SessionCtx) -> Result<Outcome> {
        if let Some(caller) = &ctx.caller {
            let hash = caller.token_hash.clone();
            self.db(move |s| s.revoke_token(&hash)).await?;
            tracing::info!(account = %caller.account, "logged out");
        }
        Ok(Outcome {
            replies: vec![ServerMessage::Bye {
                code: ErrorCode::LoggedOut,
                text: "logged out".into(),
            }],
            close: true,
        })
    }

    pub(super) async fn set_nickname(
        &self,
        me: &Caller,
        session: SessionId,
        features: Features,
        nickname: String,
    ) -> Result<Vec<ServerMessage>> {
        check_name("nickname", &nickname, self.config.limits.name, false)?;
        let (uid, nick) = (me.user, nickname);
        self.db(move |s| s.set_nickname(uid, &nick)).await?;
        self.profile_changed(me, session, features, true).await
    }

    /// `SET_PROFILE:` — one part of my profile. The signature is one line of at most `sign` characters,
    /// the region one of at most `name`; both may be empty (cleared).
    pub(super) async fn set_profile(
        &self,
        me: &Caller,
        session: SessionId,
        features: Features,
        change: ProfileChange,
    ) -> Result<Vec<ServerMessage>> {
        match &change {
            ProfileChange::Signature(text) => {
                check_name("the signature", text, self.config.limits.sign, true)?
            }
            ProfileChange::Region(text) => {
                check_name("the region", text, self.config.limits.name, true)?
            }
            ProfileChange::Gender(_) => {}
        }
        let uid = me.user;
        self.db(move |s| s.set_profile(uid, &change)).await?;
        self.profile_changed(me, session, features, false).await
    }

    /// `PROFILE[:<account>]` — anyone's profile (mine without the account), in full: whoever asks reads
    /// the new fields. A profile is what a user shows everyone, like the nickname `FIND:` shows.
    pub(super) async fn get_profile(
        &self,
        me: &Caller,
        features: Features,
        account: Option<String>,
    ) -> Result<Vec<ServerMessage>> {
        let account = account.unwrap_or_else(|| me.account.clone());
        let user = self.user_named(&account).await?;
        let avatar = (Conv::User(user.account.clone()), user.avatar);
        let mut out = vec![ServerMessage::Profile {
            account: user.account,
            nickname: user.nickname,
            profile: Some(user.profile),
        }];
        // Whose picture it is comes with the profile (mine after login, a stranger's in a request).
        out.extend(super::avatars::avatars_after(features, [avatar]));
        Ok(out)
    }

    /// Tells everyone who shows my profile that it changed: my other sessions, and the sessions of my
    /// friends and of everyone in a group with me that read `PROFILE:` lines (the `PROFILE` feature), once
    /// each. A friend's session without the feature hears of a new nickname as it always did, by a
    /// `FRIEND:` line with their remark for me; it has no place for the rest. Returns the reply for the
    /// session that made the change.
    async fn profile_changed(
        &self,
        me: &Caller,
        session: SessionId,
        features: Features,
        nickname_changed: bool,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let (user, friends, members) = self
            .db(move |s| {
                let user = s.user_by_id(uid)?;
                // Each friend sees the new nickname with their own remark for me.
                let mut views = Vec::new();
                for f in s.friends(uid)? {
                    if let Some(view) = s.friend(f.user.id, uid)? {
                        views.push((f.user.id, view));
                    }
                }
                Ok((user, views, s.co_members(uid)?))
            })
            .await?;
        let user = user
            .ok_or_else(|| ServiceError::refused(ErrorCode::NoSuchUser, "the account is gone"))?;
        let full = ServerMessage::Profile {
            account: user.account.clone(),
            nickname: user.nickname.clone(),
            profile: Some(user.profile.clone()),
        };
        let short = ServerMessage::Profile {
            account: user.account.clone(),
            nickname: user.nickname.clone(),
            profile: None,
        };
        let (full_line, short_line) = (line(&full), line(&short));
        let mut wakes = Wakes::default();
        let mut others: HashSet<UserId> = members.into_iter().collect();
        others.extend(friends.iter().map(|(id, _)| *id));
        let forms = Forms::by(Feature::Profile, None, full_line.clone());
        self.hub.queue_forms(others, &forms, None, &mut wakes);
        if nickname_changed {
            for (friend, view) in friends {
                // As before profiles; with the friend group to a session that reads it.
                let old = |category: Option<u64>| {
                    line(&ServerMessage::Friend {
                        account: view.user.account.clone(),
                        // I am online: I just changed it.
                        presence: Presence::Online,
                        nickname: view.user.nickname.clone(),
                        remark: view.remark.clone(),
                        category,
                        profile: None,
                    })
                };
                let (plain, grouped) = (old(None), old(Some(view.category)));
                let forms = Forms::by_two(
                    Feature::Profile,
                    Feature::Category,
                    [[Some(plain), Some(grouped)], [None, None]],
                );
                self.hub.queue_forms([friend], &forms, None, &mut wakes);
            }
        }
        let forms = Forms::by(Feature::Profile, Some(short_line), full_line);
        self.hub
            .queue_forms([uid], &forms, Some(session), &mut wakes);
        wakes.wake();
        Ok(vec![if features.profile { full } else { short }])
    }

    pub(super) async fn change_password(
        &self,
        me: &Caller,
        session: SessionId,
        old: String,
        new: String,
    ) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let user = self
            .db(move |s| s.user_by_id(uid))
            .await?
            .ok_or_else(|| ServiceError::refused(ErrorCode::NoSuchUser, "the account is gone"))?;
        if !self.hashing.verify(old, user.password_hash).await? {
            return Err(ServiceError::refused(
                ErrorCode::BadCredentials,
                "the current password is wrong",
            ));
        }
        check_password(&new)?;
        let hash = self.hashing.hash(new).await?;
        let keep = me.token_hash.clone();
        self.db(move |s| {
            s.set_password_hash(uid, &hash)?;
            // Every other device must log in again with the new password.
            s.revoke_tokens(uid, Some(&keep))
        })
        .await?;
        // ... and their live sessions end now, not at their next reconnect (issue 20, item 2). Tokens go
        // first, so an ended device cannot resume.
        let ended = self.end_sessions(uid, Some(session), None, ErrorCode::PasswordChanged);
        self.pass_session_end(uid, ErrorCode::PasswordChanged);
        tracing::info!(account = %me.account, ended, "password changed");
        Ok(vec![ServerMessage::PasswordChanged])
    }

    /// Decides a login-throttle attempt on the store's counters (in cluster mode, every node's). If the
    /// store cannot be reached the attempt is let through: what it guards needs the store too, and fails.
    async fn throttle(&self, attempt: Attempt) -> Verdict {
        let config = self.config.throttle.clone();
        let now = now_millis();
        let decided = self
            .db(move |s| {
                let mut verdict = Verdict::Allow;
                s.throttle(&attempt.counters(), &mut |counters| {
                    verdict = attempt.decide(&config, counters, now);
                })?;
                Ok(verdict)
            })
            .await;
        decided.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not count a login attempt");
            Verdict::Allow
        })
    }

    /// Forgets the login throttle's counters whose window has passed (run by the sweeps' leader).
    pub async fn sweep_throttle(&self) -> Result<usize> {
        let (now, window) = (now_millis(), self.config.throttle.window.as_millis() as u64);
        self.db(move |s| s.sweep_throttle(now, window)).await
    }

    /// Ends every live session of `user` but `except` that logged in at or before `before` (all if
    /// `None`) with `BYE:<code>:<text>`; how many.
    pub(crate) fn end_sessions(
        &self,
        user: crate::storage::UserId,
        except: Option<SessionId>,
        before: Option<ququ_protocol::Millis>,
        code: ErrorCode,
    ) -> usize {
        let text = match code {
            ErrorCode::Disabled => "this account has been disabled",
            ErrorCode::PasswordChanged => {
                "the password was changed; log in again with the new password"
            }
            _ => "this session has been ended",
        };
        self.hub.end_sessions(user, except, before, code, text)
    }

    /// Ends the sessions the operator's commands asked to end (`ququ-server disable`, `reset-password`:
    /// another process, so it leaves a request in the database). The server calls this once a second:
    /// one read of a table that is nearly always empty, however many sessions there are.
    pub async fn end_requested_sessions(&self) -> Result<usize> {
        let requests = self.db(|s| s.take_session_ends()).await?;
        let mut ended = 0;
        for end in requests {
            // Sessions that logged in after the change were checked against it (see `logged_in`).
            let code = ErrorCode::parse(&end.code);
            let n = self.end_sessions(end.user, None, Some(end.at), code);
            tracing::info!(user = end.user, code = %end.code, sessions = n, "sessions ended by the operator");
            ended += n;
        }
        Ok(ended)
    }

    /// Forgets the requests to end sessions asked more than [`SESSION_ENDS_KEPT`] ago: by then every
    /// node has taken them (each looks once a second). The leader's periodic sweep.
    pub async fn sweep_session_ends(&self) -> Result<usize> {
        let before = now_millis().saturating_sub(SESSION_ENDS_KEPT);
        self.db(move |s| s.sweep_session_ends(before)).await
    }
}

/// How long a request to end sessions stays for the nodes to take: a minute, where each node looks
/// every second (a node stalled for longer misses it; it is reaped after ten seconds anyway).
const SESSION_ENDS_KEPT: ququ_protocol::Millis = 60_000;

fn throttled(secs: u64) -> ServerMessage {
    ServerMessage::LoginFailed {
        code: ErrorCode::RateLimited,
        text: format!("too many failed attempts; try again in {secs} s"),
    }
}

fn disabled() -> ServerMessage {
    ServerMessage::LoginFailed {
        code: ErrorCode::Disabled,
        text: "this account has been disabled".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        for ok in ["alice", "bob_2", "a.b-c", "42"] {
            assert!(valid_account(ok), "{ok}");
        }
        for bad in ["a", "_alice", "al ice", "名字", "a:b", &"x".repeat(33)] {
            assert!(!valid_account(bad), "{bad}");
        }
    }
}

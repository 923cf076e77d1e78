//! Simulated clients: log in to Ququ (`RESUME:` with a seeded token, or `LOGIN:` with the password) or
//! authenticate to Redis (and optionally subscribe), over a connection from [`crate::target::connect`].

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::BoxResult;
use crate::target::{REDIS_PASSWORD, connect};
use crate::wire::{Reader, Resp, resp_command};

/// One logged-in connection.
#[derive(Debug)]
pub struct Conn {
    pub r: Reader<OwnedReadHalf>,
    pub w: OwnedWriteHalf,
}

/// How a simulated client logs in.
#[derive(Debug, Clone)]
pub enum Login {
    /// `RESUME:<account>:<token>`.
    Resume { account: String, token: String },
    /// `LOGIN:<account>:<password>`: one Argon2 verification on the server.
    Password { account: String, password: String },
    /// Redis `AUTH`, then `SUBSCRIBE <channel>` if given.
    Redis { subscribe: Option<String> },
}

impl Conn {
    /// Connects (from source address number `n`) and logs in; `buf` is the read buffer's size.
    pub async fn open(addr: SocketAddr, n: usize, login: &Login, buf: usize) -> BoxResult<Conn> {
        let (r, w) = connect(addr, n).await?.into_split();
        let mut c = Conn {
            r: Reader::new(r, buf),
            w,
        };
        c.login(login).await?;
        Ok(c)
    }

    async fn login(&mut self, login: &Login) -> BoxResult {
        match login {
            Login::Resume { account, token } => {
                self.w
                    .write_all(format!("RESUME:{account}:{token}\n").as_bytes())
                    .await?;
                self.ququ_reply().await
            }
            Login::Password { account, password } => {
                self.w
                    .write_all(format!("LOGIN:{account}:{password}\n").as_bytes())
                    .await?;
                self.ququ_reply().await
            }
            Login::Redis { subscribe } => {
                let mut out = Vec::new();
                resp_command(&mut out, &[b"AUTH", REDIS_PASSWORD.as_bytes()]);
                if let Some(chan) = subscribe {
                    resp_command(&mut out, &[b"SUBSCRIBE", chan.as_bytes()]);
                }
                self.w.write_all(&out).await?;
                match self.r.resp().await? {
                    Some(Resp::Simple(ok)) if ok == "OK" => {}
                    other => return Err(format!("AUTH answered {other:?}").into()),
                }
                if subscribe.is_some() {
                    match self.r.resp().await? {
                        Some(Resp::Array(items)) if items.len() == 3 => {}
                        other => return Err(format!("SUBSCRIBE answered {other:?}").into()),
                    }
                }
                Ok(())
            }
        }
    }

    async fn ququ_reply(&mut self) -> BoxResult {
        match self.r.until("LOGIN:").await? {
            Some(line) if line.starts_with("LOGIN:true:") => Ok(()),
            Some(line) => Err(format!("login refused: {line}").into()),
            None => Err("connection closed during login".into()),
        }
    }
}

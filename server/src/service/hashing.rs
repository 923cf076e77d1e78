//! Password hashing on a few dedicated threads.
//!
//! Argon2id with its default parameters takes 19 MiB and tens of milliseconds per hash, on purpose. Run
//! on tokio's blocking pool, a burst of logins (a restart with many clients whose tokens expired, a
//! password-guessing script) would start hundreds of hashes at once: no faster on a few cores, and each
//! pool thread's allocator keeps its 19 MiB afterwards — the soak test saw 1.5 GB after 200 logins. Here
//! at most one hash runs per core, each worker hashing in one buffer it allocated once (the allocator
//! otherwise keeps growing by 19 MiB a hash even on one thread), so memory stays at 19 MiB per core and the
//! queue, not the machine, absorbs the burst. The hashes are standard PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$…`), interchangeable with the `argon2` crate's own.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use tokio::sync::{mpsc, oneshot};

use super::{Result, ServiceError};

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String>>,
    },
    Verify {
        password: String,
        hash: String,
        reply: oneshot::Sender<bool>,
    },
}

/// The hashing threads; they end when this is dropped.
#[derive(Debug)]
pub(crate) struct Hashing {
    jobs: mpsc::Sender<Job>,
}

/// Jobs waiting beyond this make `hash`/`verify` wait to queue, which slows the sessions asking.
const QUEUE: usize = 1024;

impl Hashing {
    /// `threads` workers (at least one).
    pub(crate) fn new(threads: usize) -> Hashing {
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("ququ-hash-{n}"))
                .spawn(move || work(&queue));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Hashing { jobs }
    }

    /// One worker per core the OS gives this process.
    pub(crate) fn per_core() -> Hashing {
        Hashing::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    pub(crate) async fn hash(&self, password: String) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply }).await?;
        answer.await.map_err(|_| gone())?
    }

    pub(crate) async fn verify(&self, password: String, hash: String) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            hash,
            reply,
        })
        .await?;
        answer.await.map_err(|_| gone())
    }

    async fn submit(&self, job: Job) -> Result<()> {
        self.jobs.send(job).await.map_err(|_| gone())
    }
}

/// One hash on the calling thread, for the operator's commands (`reset-password`), which have no
/// server's workers to queue on. Blocking: tens of milliseconds.
pub(crate) fn hash_blocking(password: &str) -> Result<String> {
    Worker { blocks: Vec::new() }.hash(password)
}

fn gone() -> ServiceError {
    ServiceError::Hash("the password hashing threads are gone".into())
}

fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut worker = Worker { blocks: Vec::new() };
    loop {
        // The lock is held only while waiting for the next job, never while hashing.
        let job = {
            let mut queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.blocking_recv()
        };
        match job {
            None => return,
            Some(Job::Hash { password, reply }) => {
                let _ = reply.send(worker.hash(&password));
            }
            Some(Job::Verify {
                password,
                hash,
                reply,
            }) => {
                let _ = reply.send(worker.verify(&password, &hash));
            }
        }
    }
}

/// One thread's Argon2 memory, allocated once and reused by every hash.
struct Worker {
    blocks: Vec<Block>,
}

impl Worker {
    fn compute(
        &mut self,
        argon2: &Argon2<'_>,
        blocks: usize,
        password: &str,
        salt: &[u8],
        out: &mut [u8],
    ) -> std::result::Result<(), argon2::Error> {
        if self.blocks.len() < blocks {
            self.blocks.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            out,
            &mut self.blocks[..blocks],
        )
    }

    /// A new Argon2id hash with a random salt, as a PHC string.
    fn hash(&mut self, password: &str) -> Result<String> {
        let failed = |e: &dyn std::fmt::Display| ServiceError::Hash(e.to_string());
        let params = Params::default();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.compute(&argon2, params.block_count(), password, &salt, &mut out)
            .map_err(|e| failed(&e))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| failed(&e))?;
        let params = ParamsString::try_from(&params).map_err(|e| failed(&e))?;
        let out = Output::new(&out).map_err(|e| failed(&e))?;
        Ok(format!(
            "$argon2id$v={}${params}${}${out}",
            u32::from(Version::V0x13),
            salt.as_str()
        ))
    }

    /// Whether `password` matches the PHC string `hash` (any Argon2 variant and parameters).
    fn verify(&mut self, password: &str, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return false;
        };
        let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        if self
            .compute(&argon2, blocks, password, salt, &mut out)
            .is_err()
        {
            return false;
        }
        // `Output`'s equality is constant-time.
        Output::new(&out).is_ok_and(|got| got == expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_and_verify_and_many_at_once_all_finish() {
        let hashing = Hashing::new(2);
        let hash = hashing.hash("secret".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hashing.verify("secret".into(), hash.clone()).await.unwrap());
        assert!(!hashing.verify("Secret".into(), hash.clone()).await.unwrap());
        assert!(
            !hashing
                .verify("secret".into(), "not a hash".into())
                .await
                .unwrap()
        );
        let checks = (0..8).map(|i| hashing.verify(format!("guess{i}"), hash.clone()));
        let results = futures::future::join_all(checks).await;
        assert!(results.into_iter().all(|r| r.is_ok_and(|ok| !ok)));
    }

    #[tokio::test]
    async fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let hashing = Hashing::new(1);
        // Ours, checked by the crate: what older servers and the admin tool expect.
        let ours = hashing.hash("密码 secret".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password("密码 secret".as_bytes(), &parsed)
                .is_ok()
        );
        // The crate's (what `reset-password` and earlier versions stored), checked by ours.
        let salt = SaltString::encode_b64(b"sixteen byte sal").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"hunter22", &salt)
            .unwrap()
            .to_string();
        assert!(
            hashing
                .verify("hunter22".into(), theirs.clone())
                .await
                .unwrap()
        );
        assert!(!hashing.verify("hunter23".into(), theirs).await.unwrap());
        // Other parameters (a stronger hash from elsewhere) verify too.
        let strong = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"hunter22", &salt)
        .unwrap()
        .to_string();
        assert!(hashing.verify("hunter22".into(), strong).await.unwrap());
    }
}

//! Fuzzes a whole server session: one real server per process (on 127.0.0.1, its own runtime and data
//! dir), and each input played against it on fresh connections. See `src/lib.rs` for what is checked.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use ququ_server_fuzz::Harness;

struct Fuzz {
    /// Single-threaded: the server only runs while an input is played, so the coverage an input reports is
    /// its own (SQLite and Argon2 still run on the blocking pool).
    rt: tokio::runtime::Runtime,
    harness: Mutex<Harness>,
    _dir: tempfile::TempDir,
}

const PREFIX: &str = "ququ-session-fuzz-";

/// libFuzzer ends the process with `exit`, so the data dir is never dropped: each run removes those of runs
/// whose process is gone (where `/proc` tells).
fn remove_stale_dirs() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn fuzz() -> &'static Fuzz {
    static FUZZ: OnceLock<Fuzz> = OnceLock::new();
    FUZZ.get_or_init(|| {
        // A Rust program's `main` ignores SIGPIPE, so the server binary gets `EPIPE` from a write to a
        // connection its client closed; libFuzzer's `main` does not, and the server's vectored writes
        // (`writev`, which cannot ask for `MSG_NOSIGNAL` as `send` does) killed the whole process.
        // SAFETY: setting a signal's disposition to "ignore" at start-up, before other threads run code
        // that could depend on it.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        remove_stale_dirs();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()
            .expect("temp dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let config = ququ_server_fuzz::config(dir.path());
        let db = config.db_path();
        let harness = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move {
                let result = ququ_server::run(listener, config, std::future::pending::<()>()).await;
                panic!("the server stopped: {result:?}");
            });
            Harness::setup(addr, db).await
        });
        Fuzz {
            rt,
            harness: Mutex::new(harness),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let fuzz = fuzz();
    let mut harness = fuzz.harness.lock().unwrap_or_else(|e| e.into_inner());
    fuzz.rt.block_on(harness.run(data));
});

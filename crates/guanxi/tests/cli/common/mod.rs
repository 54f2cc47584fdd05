//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use std::process::Command;

/// `guanxi serve` on 127.0.0.1:`port` over the database at `url`, ready for more settings.
pub fn serve_command(url: &str, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guanxi"));
    c.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--database-url",
        url,
    ]);
    c
}

/// Runs `guanxi ARGS --database-url URL` and returns its output.
pub fn guanxi(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(args)
        .arg("--database-url")
        .arg(url)
        .env("NO_COLOR", "1")
        .output()
        .expect("run guanxi")
}

/// Standard output and error together, for assertion messages.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The Python with the reference packages (DuckDB …): `GUANXI_PYTHON`, else the virtualenv
/// `./test.sh` creates at `target/pyenv`. Missing is a failure with instructions, never a skip.
pub fn python() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("GUANXI_PYTHON") {
        return p.into();
    }
    let venv =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python");
    assert!(
        venv.exists(),
        "Python with DuckDB is required: run ./test.sh (it creates target/pyenv from \
         tests/requirements.txt) or set GUANXI_PYTHON"
    );
    venv
}

/// The repository's root.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A free local port for a server under test.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until `GET {api}/health` answers (the server migrated and listens), up to `secs`.
pub async fn wait_for_health(http: &reqwest::Client, api: &str, secs: u64) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if http
            .get(format!("{api}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

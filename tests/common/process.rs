//! A real `packyard serve` process on 127.0.0.1, for tests of restarts, signals and memory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub log_path: PathBuf,
}

impl ServerProcess {
    /// Starts the server on a free loopback port with JSON logs going to `log_path`, and waits until
    /// it reports the address it listens on and `/health` answers.
    pub async fn start(
        data_dir: &Path,
        database_url: Option<&str>,
        extra_args: &[&str],
        log_path: &Path,
    ) -> ServerProcess {
        Self::start_with_env(data_dir, database_url, extra_args, log_path, &[]).await
    }

    /// Like `start`, with extra environment variables (credentials for an object store, say).
    pub async fn start_with_env(
        data_dir: &Path,
        database_url: Option<&str>,
        extra_args: &[&str],
        log_path: &Path,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        Self::launch(data_dir, database_url, extra_args, log_path, env, None).await
    }

    /// Starts the server as `start_with_env` does, limited to `open_files` file descriptors (soft
    /// and hard limits) when given.
    async fn launch(
        data_dir: &Path,
        database_url: Option<&str>,
        extra_args: &[&str],
        log_path: &Path,
        env: &[(&str, &str)],
        open_files: Option<u64>,
    ) -> ServerProcess {
        let log = std::fs::File::create(log_path).expect("create server log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_packyard"));
        command
            .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra_args)
            .env_remove("PACKYARD_DATABASE_URL")
            .env_remove("PACKYARD_ADMIN_TOKEN")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = database_url {
            command.arg("--database-url").arg(url);
        }
        command.envs(env.iter().copied());
        if let Some(limit) = open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit runs between fork and exec, on a struct on the stack.
            unsafe {
                command.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        // Tests load packs only when they ask for them.
        if !extra_args.contains(&"--packs-dir") {
            command.arg("--packs-dir").arg(data_dir.join("no-packs"));
        }
        let child = command.spawn().expect("spawn packyard");
        let mut server = ServerProcess {
            child,
            base_url: String::new(),
            log_path: log_path.to_path_buf(),
        };
        let address = server.wait_for_listen_address().await;
        let scheme = match extra_args.contains(&"--tls-cert") {
            true => "https",
            false => "http",
        };
        server.base_url = format!("{scheme}://{address}");
        server.wait_until_healthy().await;
        server
    }

    async fn wait_for_listen_address(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("poll child") {
                panic!("packyard exited early ({status}): {}", self.log());
            }
            let file = std::fs::File::open(&self.log_path).expect("open server log");
            for line in BufReader::new(file).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                    && event["message"] == "packyard is serving"
                    && let Some(listen) = event["listen"].as_str()
                {
                    return listen.to_owned();
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("packyard did not start listening: {}", self.log());
    }

    async fn wait_until_healthy(&self) {
        // Over TLS the test's own CA is not known here: health only needs an answer.
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        for _ in 0..500 {
            if let Ok(response) = client.get(self.url("/health")).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("packyard never became healthy: {}", self.log());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The log once it contains `needle` (the server writes its lines in batches, up to 50 ms
    /// late), or as it is after five seconds.
    pub async fn log_containing(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Sends SIGTERM (graceful shutdown) without waiting.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// SIGKILL: the process gets no chance to clean up (a crash, a power cut for the process).
    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL packyard");
        self.child.wait().expect("reap packyard");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub async fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll child") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "packyard did not exit: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Resident set size now and at its peak (VmRSS, VmHWM), in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name} missing from /proc status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Resets the peak RSS counter so VmHWM measures from now on.
    pub fn reset_peak_memory(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
            .expect("reset peak RSS via /proc/<pid>/clear_refs");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A data directory and a fresh database (the suite's backend) for servers and commands run as
/// processes, one after another, on the same storage.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl Setup {
    pub async fn new() -> Setup {
        Setup {
            dir: tempfile::tempdir().unwrap(),
            database_url: super::fresh_database_url().await,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub async fn start(&self, log_name: &str, extra: &[&str]) -> ServerProcess {
        let mut args = vec!["--admin-token", super::ADMIN_TOKEN];
        args.extend_from_slice(extra);
        ServerProcess::start(
            &self.data_dir(),
            self.database_url.as_deref(),
            &args,
            &self.dir.path().join(log_name),
        )
        .await
    }

    /// Like `start`, with at most `open_files` file descriptors for the server.
    pub async fn start_with_open_files(
        &self,
        log_name: &str,
        extra: &[&str],
        open_files: u64,
    ) -> ServerProcess {
        let mut args = vec!["--admin-token", super::ADMIN_TOKEN];
        args.extend_from_slice(extra);
        ServerProcess::launch(
            &self.data_dir(),
            self.database_url.as_deref(),
            &args,
            &self.dir.path().join(log_name),
            &[],
            Some(open_files),
        )
        .await
    }

    /// Runs `packyard <args> --data-dir D [--database-url U]`.
    pub fn command(&self, args: &[&str]) -> Output {
        run_packyard(args, &self.data_dir(), self.database_url.as_deref())
    }
}

pub fn run_packyard(args: &[&str], data_dir: &Path, database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_packyard"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("PACKYARD_DATABASE_URL");
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    command.output().expect("run packyard")
}

/// `program args` under a shell watchdog that stops it once this test binary has exited. A helper
/// server kept in a `static` (one per test binary) is never dropped, so without the watchdog it
/// would outlive the suite.
pub fn tied_to_this_binary(program: &str, args: &[&str]) -> Command {
    const WATCHDOG: &str = r#"parent=$1; shift
"$@" &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.2; done
kill "$child" 2>/dev/null
wait "$child""#;
    let mut command = Command::new("sh");
    command
        .args(["-c", WATCHDOG, "watchdog"])
        .arg(std::process::id().to_string())
        .arg(program)
        .args(args);
    command
}

/// Runs a client program to its end: whether it succeeded, and its stdout and stderr together.
pub fn run_client(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("run a client");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// Runs one of the Python client drivers in `tests/clients/` and returns the JSON report it
/// prints.
pub fn client_report(
    python: &std::ffi::OsStr,
    script: &str,
    args: &[&str],
    env: &[(&str, &Path)],
) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run a Python client");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "client report ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

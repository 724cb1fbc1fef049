//! One moto standalone server per process, started on first use on a free local port and
//! killed when the process exits (an `atexit` hook, and `PR_SET_PDEATHSIG` in case the process
//! is killed outright).
//!
//! moto is found at `$KIZUNA_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`, else on
//! `PATH`. It runs with its requests serialised (`moto_serialized.py`), because its DynamoDB is
//! not atomic under concurrent conditional writes and DynamoDB is.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "moto_server not found. Install it once in the workspace:\n    \
     python3 -m venv .venv && .venv/bin/pip install 'moto[server]'\n\
     or point KIZUNA_MOTO_SERVER at a moto_server executable.";

/// `http://127.0.0.1:PORT` of this process's moto server, started on first call.
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(start_moto)
}

static MOTO_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn kill_moto() {
    let pid = MOTO_PID.swap(0, Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) on a pid we spawned; no memory is touched.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

fn moto_executable() -> PathBuf {
    if let Some(path) = std::env::var_os("KIZUNA_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| panic!("{INSTALL_HINT}"))
}

/// A launcher that runs moto_server with requests serialised (see the file for why).
const SERIALIZED_MOTO: &str = include_str!("moto_serialized.py");

/// The interpreter of a pip-installed `moto_server` script, from its `#!` line
/// (`#!/path/python3` or `#!/usr/bin/env python3`).
fn python_of(script: &PathBuf) -> Option<PathBuf> {
    let text = std::fs::read(script).ok()?;
    let first = text.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let interpreter = words.next()?;
    let python = if interpreter.ends_with("/env") {
        words.next()?
    } else {
        interpreter
    };
    python.contains("python").then(|| PathBuf::from(python))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free local port")
}

fn start_moto() -> String {
    let executable = moto_executable();
    // The port is free when chosen but could be taken before moto binds it: try a few.
    for _ in 0..3 {
        let port = free_port();
        if let Some(endpoint) = try_start_moto(&executable, port) {
            // SAFETY: registering a plain extern "C" fn; it only calls kill(2).
            unsafe {
                libc::atexit(kill_moto);
            }
            return endpoint;
        }
    }
    panic!(
        "moto_server ({}) did not start; see {}",
        executable.display(),
        log_path().display()
    );
}

fn log_path() -> PathBuf {
    std::env::temp_dir().join(format!("kizuna-moto-{}.log", std::process::id()))
}

/// Starts moto on `port` from a thread that lives as long as the process: `PR_SET_PDEATHSIG`
/// fires when the *thread* that forked the child ends, so it must not be a test's thread.
fn try_start_moto(executable: &PathBuf, port: u16) -> Option<String> {
    let log = std::fs::File::create(log_path()).expect("creating the moto log file");
    let mut command = match python_of(executable) {
        Some(python) => {
            let mut c = Command::new(python);
            c.args(["-c", SERIALIZED_MOTO]);
            c
        }
        None => {
            eprintln!(
                "kizuna-local: cannot find the Python of {}; running it directly, so \
                 concurrent conditional writes are not atomic and race tests may fail",
                executable.display()
            );
            Command::new(executable)
        }
    };
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("moto log"))
        .stderr(log);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
    }

    let exited = Arc::new(AtomicBool::new(false));
    let (pid_tx, pid_rx) = mpsc::channel();
    let exited_flag = Arc::clone(&exited);
    let executable = executable.clone();
    std::thread::Builder::new()
        .name("moto-server".into())
        .spawn(move || {
            let mut child = match command.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = pid_tx.send(Err(format!("{}: {e}", executable.display())));
                    return;
                }
            };
            let _ = pid_tx.send(Ok(child.id()));
            let _ = child.wait();
            exited_flag.store(true, Ordering::SeqCst);
        })
        .expect("spawning the moto keeper thread");

    let pid = match pid_rx.recv().expect("moto keeper thread") {
        Ok(pid) => pid,
        Err(e) => panic!("starting {e}\n{INSTALL_HINT}"),
    };
    MOTO_PID.store(pid as i32, Ordering::SeqCst);

    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if exited.load(Ordering::SeqCst) {
            MOTO_PID.store(0, Ordering::SeqCst);
            return None;
        }
        if moto_answers(port) {
            return Some(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_moto();
    None
}

/// Whether `GET /moto-api/` answers with HTTP 200.
fn moto_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

/// moto's fixed account id (part of its queue URLs).
pub const MOTO_ACCOUNT: &str = "123456789012";

/// A fresh namespace (tables, bucket, queue, secret prefix all starting with `namespace`) on
/// this process's moto server, provisioned exactly as production is, with SDK clients that
/// talk to it. The region is Kizuna's production region; credentials are dummies.
pub async fn provisioned_namespace(
    namespace: &str,
) -> Result<(kizuna_aws::Config, kizuna_aws::AwsClients), kizuna_aws::provision::ProvisionError> {
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_sqs::config::Credentials;
    let endpoint = moto_endpoint().to_owned();
    let mut config = kizuna_aws::Config::for_namespace(
        namespace,
        Some(endpoint.clone()),
        &format!("{endpoint}/{MOTO_ACCOUNT}"),
        // Nothing listens here: whoever talks to LINE replaces it with the fake's URL.
        "http://127.0.0.1:9",
    );
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("ap-northeast-1"))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "kizuna-local",
        ))
        .endpoint_url(&endpoint)
        .load()
        .await;
    let clients = kizuna_aws::AwsClients::from_sdk_config(&sdk, &config);
    config.send_queue_url = kizuna_aws::provision::create_all(&clients, &config)
        .await?
        .send_queue_url;
    Ok((config, clients))
}

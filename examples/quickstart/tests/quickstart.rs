//! The quick start as a newcomer runs it: the real binary on a free port,
//! the `sign` tool's curl command sent by the real curl, the event printed
//! by the LogSink, and a clean exit on SIGTERM.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn next_line_containing<R>(lines: &mut Lines<R>, needle: &str) -> String
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match lines.next_line().await.unwrap() {
                Some(line) if line.contains(needle) => return line,
                Some(_) => continue,
                None => panic!("output ended before a line containing {needle:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no line containing {needle:?} within 20 s"))
}

struct Running {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Everything printed to stderr up to "listening on".
    banner: Vec<String>,
    url: String,
}

async fn start(secret: Option<&str>) -> Running {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    command
        .env("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env_remove("WP_BRIDGE_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Without sink variables, whatever the developer's shell has set.
    for var in quickstart::sinks::VARIABLES {
        command.env_remove(var);
    }
    if let Some(secret) = secret {
        command.env("WP_BRIDGE_SECRET", secret);
    }
    let mut child = command.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr: Lines<BufReader<ChildStderr>> =
        BufReader::new(child.stderr.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(20), async {
        let mut banner = Vec::new();
        while let Some(line) = stderr.next_line().await.unwrap() {
            let done = line.contains("listening on");
            banner.push(line);
            if done {
                // Keep draining so the child never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
                return banner;
            }
        }
        panic!("quickstart exited early: {banner:?}");
    })
    .await
    .expect("quickstart starts within 20 s");
    Running {
        child,
        stdout,
        banner,
        url: format!("http://127.0.0.1:{port}/webhooks/wp"),
    }
}

async fn sign_and_send(secret: &str, url: &str) -> String {
    let event = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/events/comment.json"
    );
    let sign = std::process::Command::new(env!("CARGO_BIN_EXE_sign"))
        .args([event, "--new-id", "--url", url])
        .env("WP_BRIDGE_SECRET", secret)
        .output()
        .unwrap();
    assert!(
        sign.status.success(),
        "{}",
        String::from_utf8_lossy(&sign.stderr)
    );
    let curl = String::from_utf8(sign.stdout).unwrap();
    assert!(!curl.contains(secret), "the sign tool printed the secret");
    let sent = std::process::Command::new("sh")
        .args(["-c", &curl])
        .output()
        .expect("curl is installed (.ci/run installs it)");
    String::from_utf8(sent.stdout).unwrap()
}

async fn stop(mut running: Running) {
    let pid = running.child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), running.child.wait())
        .await
        .expect("exits within 20 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

fn event_id_of(response: &str) -> String {
    let body = response.lines().last().unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json["event_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn signed_curl_from_the_sign_tool_is_accepted_and_delivered() {
    let secret = "quickstart-test-secret-0123456789";
    let mut running = start(Some(secret)).await;
    let response = sign_and_send(secret, &running.url).await;
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    assert!(response.contains(r#""status":"accepted""#), "{response}");

    let id = event_id_of(&response);
    let line = next_line_containing(&mut running.stdout, &id).await;
    let delivered: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(delivered["event"]["event"], "comment.created");
    assert_eq!(delivered["event"]["data"]["author"]["name"], "Ada Lovelace");
    stop(running).await;
}

#[tokio::test]
async fn without_a_secret_one_is_generated_printed_and_used() {
    let running = start(None).await;
    let line = running
        .banner
        .iter()
        .find(|l| l.contains("WP_BRIDGE_SECRET="))
        .expect("the generated secret is printed");
    let secret = line
        .trim()
        .trim_start_matches("WP_BRIDGE_SECRET=")
        .to_owned();
    assert!(secret.len() >= 40, "{line}");
    assert!(running.banner.iter().any(|l| l.contains("NOT DURABLE")));
    let response = sign_and_send(&secret, &running.url).await;
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    stop(running).await;
}

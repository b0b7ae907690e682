//! The quick start with its sink variables: the real binary delivering to
//! fake Slack, HubSpot and OpenAI servers, variables checked at start, and
//! the routes it derives from them.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quickstart::sinks::{parse_routes, Configured, VARIABLES};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wp_bridge::core::event::{EventType, SinkName};
use wp_bridge::core::routing::Routes;
use wp_bridge::core::signature::SecretSet;

const SECRET: &str = "quickstart-sinks-secret-0123456789";
const HOOK_PATH: &str = "/services/T0001/B0002/qsS3cr3tHook";
const SUMMARY: &str = "Alan asks to be called back.";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(vars: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quickstart"));
    for var in VARIABLES {
        command.env_remove(var);
    }
    command
        .env("WP_BRIDGE_SECRET", SECRET)
        .env("WP_BRIDGE_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (var, value) in vars {
        command.env(var, value);
    }
    command
}

async fn fakes() -> (MockServer, MockServer, MockServer) {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let hubspot = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/upsert"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [{"id": "501", "properties": {"email": "alan@example.com"}, "createdAt": "2026-12-04T11:00:01Z",
                         "updatedAt": "2026-12-04T11:00:01Z", "archived": false, "new": true}],
            "startedAt": "2026-12-04T11:00:01Z", "completedAt": "2026-12-04T11:00:01Z"
        })))
        .mount(&hubspot)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/notes"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "9001", "properties": {"hs_timestamp": "2026-12-04T11:00:00Z"},
            "createdAt": "2026-12-04T11:00:02Z", "updatedAt": "2026-12-04T11:00:02Z", "archived": false
        })))
        .mount(&hubspot)
        .await;
    let openai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-qs1", "object": "chat.completion", "created": 1796378400, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null, "message": {
                "role": "assistant", "refusal": null,
                "content": format!("{{\"summary\":\"{SUMMARY}\",\"spam\":false,\"sentiment\":\"neutral\",\"intent\":\"support\"}}")}}],
            "usage": {"prompt_tokens": 250, "completion_tokens": 30, "total_tokens": 280}
        })))
        .mount(&openai)
        .await;
    (slack, hubspot, openai)
}

async fn requests_to(server: &MockServer, count: usize) -> Vec<wiremock::Request> {
    for _ in 0..400 {
        let requests = server.received_requests().await.unwrap();
        if requests.len() >= count {
            return requests;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} requests within 20 s");
}

#[tokio::test]
async fn with_the_variables_set_events_reach_the_fake_services_enriched() {
    let (slack, hubspot, openai) = fakes().await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut command = command(&[
        (
            "WP_BRIDGE_SLACK_WEBHOOK_URL",
            format!("{}{HOOK_PATH}", slack.uri()),
        ),
        ("WP_BRIDGE_HUBSPOT_TOKEN", "pat-na1-qs-s3cr3t".into()),
        ("WP_BRIDGE_HUBSPOT_BASE_URL", hubspot.uri()),
        ("WP_BRIDGE_OPENAI_API_KEY", "sk-qs-s3cr3t-0123456789".into()),
        ("WP_BRIDGE_OPENAI_BASE_URL", format!("{}/v1", openai.uri())),
    ]);
    command.env("WP_BRIDGE_LISTEN", &listen);
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(20), async {
        let mut banner = Vec::new();
        while let Some(line) = stderr.next_line().await.unwrap() {
            let done = line.contains("listening on");
            banner.push(line);
            if done {
                return banner;
            }
        }
        panic!("quickstart exited early: {banner:?}");
    })
    .await
    .unwrap();
    let logs = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Ok(Some(line)) = stderr.next_line().await {
            lines.push(line);
        }
        lines
    });
    assert!(
        banner
            .iter()
            .any(|l| l == "Sinks: openai, log, slack, hubspot"),
        "{banner:?}"
    );

    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/events/lead.json"
    ))
    .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let response = reqwest::Client::new()
        .post(format!("http://{listen}/webhooks/wp"))
        .header("content-type", "application/json")
        .header("x-wp-timestamp", now.to_string())
        .header(
            "x-wp-signature",
            SecretSet::new([SECRET]).unwrap().sign(now, &body),
        )
        .header("x-event-id", "c0ffee00-1234-4abc-9def-0123456789ab")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let message = String::from_utf8(requests_to(&slack, 1).await[0].body.clone()).unwrap();
    assert!(message.contains(SUMMARY), "{message}");
    let hubspot_calls = requests_to(&hubspot, 2).await;
    let note = String::from_utf8(hubspot_calls[1].body.clone()).unwrap();
    assert!(note.contains(SUMMARY), "{note}");
    assert_eq!(openai.received_requests().await.unwrap().len(), 1);
    let line = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let line = stdout.next_line().await.unwrap().unwrap();
            if line.contains("c0ffee00-1234-4abc-9def-0123456789ab") {
                return line;
            }
        }
    })
    .await
    .unwrap();
    assert!(
        line.contains("lead.created"),
        "the LogSink still prints: {line}"
    );

    let pid = child.id().unwrap();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let printed = banner
        .into_iter()
        .chain(logs.await.unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !printed.contains("s3cr3t") && !printed.contains("qsS3cr3tHook"),
        "{printed}"
    );
}

#[tokio::test]
async fn a_bad_variable_stops_the_start_and_is_named() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[(
                "WP_BRIDGE_SLACK_WEBHOOK_URL",
                "http://hooks.slack.com/services/T/B/s3cr3t",
            )],
            "WP_BRIDGE_SLACK_WEBHOOK_URL",
        ),
        (
            &[
                ("WP_BRIDGE_HUBSPOT_TOKEN", "pat-s3cr3t"),
                ("WP_BRIDGE_HUBSPOT_BASE_URL", "api.hubapi.com"),
            ],
            "WP_BRIDGE_HUBSPOT_BASE_URL",
        ),
        (
            &[
                ("WP_BRIDGE_OPENAI_API_KEY", "sk-s3cr3t"),
                ("WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD", "lots"),
            ],
            "WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD",
        ),
        (
            &[
                ("WP_BRIDGE_OPENAI_API_KEY", "sk-s3cr3t"),
                ("WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS", "0"),
            ],
            "WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS",
        ),
        (
            &[("WP_BRIDGE_OPENAI_MODEL", "gpt-4o")],
            "WP_BRIDGE_OPENAI_MODEL",
        ),
        (
            &[("WP_BRIDGE_ROUTES", "lead.created=log,slack")],
            "WP_BRIDGE_ROUTES",
        ),
    ];
    for (vars, named) in cases {
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let output = tokio::time::timeout(Duration::from_secs(20), command(&vars).output())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{vars:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("error: {named} is not usable")),
            "{named}: {stderr}"
        );
        assert!(!stderr.contains("s3cr3t"), "{stderr}");
    }
}

fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn names(routes: &Routes, event_type: EventType) -> Vec<&str> {
    routes
        .sinks_for(event_type)
        .iter()
        .map(SinkName::as_str)
        .collect()
}

#[tokio::test]
async fn without_variables_only_the_log_sink_runs() {
    let configured =
        Configured::from_lookup(lookup(&[("WP_BRIDGE_SLACK_WEBHOOK_URL", "  ")])).unwrap();
    assert_eq!(configured.names(), ["log"]);
    assert_eq!(configured.routes, Routes::all_to("log"));
}

#[tokio::test]
async fn default_routes_enrich_comments_and_leads_first_and_send_everything_everywhere() {
    let configured = Configured::from_lookup(lookup(&[
        (
            "WP_BRIDGE_SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/X",
        ),
        ("WP_BRIDGE_HUBSPOT_TOKEN", "pat-na1-x"),
        ("WP_BRIDGE_OPENAI_API_KEY", "sk-x"),
    ]))
    .unwrap();
    let routes = &configured.routes;
    assert_eq!(
        names(routes, EventType::CommentCreated),
        ["openai", "log", "slack", "hubspot"]
    );
    assert_eq!(
        names(routes, EventType::LeadCreated),
        ["openai", "log", "slack", "hubspot"]
    );
    assert_eq!(
        names(routes, EventType::OrderCreated),
        ["log", "slack", "hubspot"]
    );
}

#[test]
fn routes_are_read_from_their_variable() {
    let routes = parse_routes(
        " order.created = hubspot ; lead.created=openai, slack,hubspot;",
        &["openai", "log", "slack", "hubspot"],
    )
    .unwrap();
    assert_eq!(names(&routes, EventType::OrderCreated), ["hubspot"]);
    assert_eq!(
        names(&routes, EventType::LeadCreated),
        ["openai", "slack", "hubspot"]
    );
    assert!(names(&routes, EventType::CommentCreated).is_empty());
    for bad in ["order.created", "order.updated=log", "order.created=nope"] {
        let err = parse_routes(bad, &["log"]).unwrap_err().to_string();
        assert!(err.starts_with("WP_BRIDGE_ROUTES is not usable"), "{err}");
    }
}

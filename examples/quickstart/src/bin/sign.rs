//! Run with
//!
//! ```sh
//! WP_BRIDGE_SECRET=… cargo run -p quickstart --bin sign -- testdata/events/comment.json
//! ```
//!
//! Prints a `curl` command that posts the event file to the gateway with the
//! three signing headers, signed now. The secret is read from
//! `WP_BRIDGE_SECRET` (or `--secret`) and never printed.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use wp_bridge::core::signature::SecretSet;

#[derive(Debug, Parser)]
#[command(about = "Print a signed curl command for a wp-bridge test event")]
struct Args {
    /// The event JSON file (see testdata/events/).
    file: PathBuf,
    /// The signing secret shared with the gateway.
    #[arg(long, env = "WP_BRIDGE_SECRET", hide_env_values = true)]
    secret: String,
    /// The gateway's ingest URL.
    #[arg(long, default_value = "http://127.0.0.1:8080/webhooks/wp")]
    url: String,
    /// Give the event a fresh random id, so it is not a duplicate.
    #[arg(long)]
    new_id: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(err) = run(args) {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let secrets = SecretSet::new([args.secret.as_bytes()])?;
    let mut body = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    if args.new_id {
        body = quickstart::sign::with_event_id(&body, &uuid::Uuid::new_v4().to_string())?;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    println!(
        "{}",
        quickstart::sign::curl_command(&secrets, &args.url, &body, now)?
    );
    Ok(())
}

//! The operator documents stay true to the code: the Grafana dashboard is a
//! well-formed dashboard, and every metric the dashboard, the alert rules and
//! the observability guide name is one wp-bridge records.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::collections::HashSet;

use serde_json::Value;
use wp_bridge::core::metrics::ALL;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every `wp_bridge_…` identifier in `text`, with Prometheus' histogram
/// suffixes taken off.
fn metric_names(text: &str) -> HashSet<String> {
    let mut names = HashSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("wp_bridge_") {
        let start = i + pos;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
        i = end;
        if text[end..].starts_with("::") {
            continue; // a crate path such as wp_bridge_core::metrics
        }
        let name = &text[start..end];
        let name = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        names.insert(name.to_owned());
    }
    names
}

fn assert_known(file: &str) {
    let known: HashSet<&str> = ALL.iter().copied().collect();
    let used = metric_names(&read(file));
    assert!(!used.is_empty(), "{file} names no metric");
    for name in used {
        assert!(
            known.contains(name.as_str()),
            "{file} uses {name}, which wp-bridge does not record"
        );
    }
}

#[test]
fn the_grafana_dashboard_is_well_formed() {
    let dashboard: Value = serde_json::from_str(&read("docs/grafana/wp-bridge.json")).unwrap();
    assert!(dashboard["uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(dashboard["title"].as_str().is_some());
    assert!(dashboard["schemaVersion"].as_u64().is_some_and(|v| v >= 30));
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 6);
    let mut ids = HashSet::new();
    for panel in panels {
        let id = panel["id"].as_u64().unwrap();
        assert!(ids.insert(id), "panel id {id} repeats");
        assert!(["timeseries", "stat", "gauge", "table", "bargauge"]
            .contains(&panel["type"].as_str().unwrap()));
        assert!(panel["title"].as_str().is_some_and(|t| !t.is_empty()));
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(x + w <= 24 && grid["h"].as_u64().unwrap() > 0 && grid["y"].as_u64().is_some());
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty());
        for t in targets {
            assert!(
                t["refId"].as_str().is_some()
                    && t["expr"].as_str().is_some_and(|e| e.contains("wp_bridge_"))
            );
        }
    }
}

#[test]
fn the_dashboard_alert_rules_and_guide_name_only_recorded_metrics() {
    assert_known("docs/grafana/wp-bridge.json");
    assert_known("docs/prometheus/wp-bridge-alerts.yml");
    assert_known("docs/observability.md");
}

#[test]
fn the_guide_lists_every_metric() {
    let guide = read("docs/observability.md");
    for name in ALL {
        assert!(
            guide.contains(name),
            "docs/observability.md does not list {name}"
        );
    }
}

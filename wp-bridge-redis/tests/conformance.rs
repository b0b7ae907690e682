//! The queue conformance suite against real Redis, a random key prefix per case.

use std::sync::Arc;

use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::queue::Queue;
use wp_bridge_redis::testing::{fresh_prefix, test_redis_url};
use wp_bridge_redis::{RedisConfig, RedisQueue};

async fn fresh_queue(clock: SharedClock) -> Arc<dyn Queue> {
    let config = RedisConfig::new(test_redis_url()).prefix(fresh_prefix());
    Arc::new(
        RedisQueue::connect(&config, clock)
            .await
            .expect("Redis reachable"),
    )
}

wp_bridge_core::queue_conformance!(fresh_queue);

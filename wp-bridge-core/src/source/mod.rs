//! Senders that do not speak wp-bridge's own format, translated at the edge.

pub mod woocommerce;

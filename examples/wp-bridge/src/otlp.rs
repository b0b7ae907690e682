//! Exports wp-bridge's own spans (`http`, `ingest`, `job`, `deliver`, with
//! their `correlation_id` and `event_id`) to an OpenTelemetry collector over
//! OTLP/HTTP, when built with the `otlp` feature and `WP_BRIDGE_OTLP_ENDPOINT`
//! is set (e.g. `http://127.0.0.1:4318`).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;

/// The exporter, flushed and stopped by [`Exporter::shutdown`].
pub(crate) struct Exporter(SdkTracerProvider);

impl Exporter {
    /// Flushes the spans still buffered; call once, before exit.
    pub(crate) fn shutdown(self) {
        if let Err(err) = self.0.shutdown() {
            eprintln!("warning: OTLP exporter did not shut down cleanly: {err}");
        }
    }
}

/// A tracing layer sending spans to `endpoint` (`…/v1/traces` is appended).
pub(crate) fn layer<S>(
    endpoint: &str,
) -> Result<(impl tracing_subscriber::Layer<S>, Exporter), String>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()
        .map_err(|e| format!("WP_BRIDGE_OTLP_ENDPOINT: cannot build the OTLP exporter: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("wp-bridge").build())
        .build();
    let tracer = provider.tracer("wp-bridge");
    Ok((
        tracing_opentelemetry::layer().with_tracer(tracer),
        Exporter(provider),
    ))
}

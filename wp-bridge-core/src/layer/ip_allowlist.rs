//! Refuses requests from addresses outside configured networks — 403
//! `ip_not_allowed` before a byte of the body is read.
//!
//! The client address is the peer's ([`ClientAddr`], put in the request
//! extensions by the server), unless the peer is a trusted proxy: then the
//! rightmost address of `X-Forwarded-For` (or `Forwarded: for=`) that is not
//! itself a trusted proxy. Trusting a header from anyone else would let any
//! client claim any address.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::convert::Infallible;
//! use http::{Request, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//! use wp_bridge_core::layer::ip_allowlist::{ClientAddr, IpAllowlistLayer};
//! use wp_bridge_core::response::{json_response, GatewayResponse};
//!
//! let layer = IpAllowlistLayer::new(["203.0.113.0/24", "2001:db8::/32"]).unwrap()
//!     .trusted_proxies(["10.0.0.1/32"]).unwrap();
//! let svc = layer.layer(service_fn(|_: Request<()>| async {
//!     Ok::<GatewayResponse, Infallible>(json_response(StatusCode::ACCEPTED, "ok"))
//! }));
//! let from = |peer: &str, xff: Option<&str>| {
//!     let mut r = Request::new(());
//!     r.extensions_mut().insert(ClientAddr(peer.parse().unwrap()));
//!     if let Some(xff) = xff { r.headers_mut().insert("x-forwarded-for", xff.parse().unwrap()); }
//!     r
//! };
//! assert_eq!(svc.clone().oneshot(from("203.0.113.7:5000", None)).await.unwrap().status(), StatusCode::ACCEPTED);
//! assert_eq!(svc.clone().oneshot(from("198.51.100.1:5000", None)).await.unwrap().status(), StatusCode::FORBIDDEN);
//! // Through the trusted proxy, the forwarded address counts...
//! assert_eq!(svc.clone().oneshot(from("10.0.0.1:443", Some("198.51.100.1, 203.0.113.9"))).await.unwrap().status(), StatusCode::ACCEPTED);
//! // ...but not when anyone else sends the header.
//! assert_eq!(svc.oneshot(from("198.51.100.1:5000", Some("203.0.113.9"))).await.unwrap().status(), StatusCode::FORBIDDEN);
//! # }
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Request};
use ipnet::IpNet;
use thiserror::Error;
use tower_layer::Layer;
use tower_service::Service;

use super::{take_ready, ResponseFuture};
use crate::rejection::{ErrorCode, Rejection};
use crate::response::GatewayResponse;

/// The TCP peer of a request, inserted by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// A network in a list is not CIDR notation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0:?} is not an address or a CIDR network (e.g. 203.0.113.0/24, 2001:db8::/32)")]
pub struct InvalidNetwork(pub String);

fn parse_nets<I, S>(nets: I) -> Result<Vec<IpNet>, InvalidNetwork>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    nets.into_iter()
        .map(|n| {
            let n = n.as_ref().trim();
            n.parse::<IpNet>()
                .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| InvalidNetwork(n.to_owned()))
        })
        .collect()
}

#[derive(Debug)]
struct Lists {
    allowed: Vec<IpNet>,
    proxies: Vec<IpNet>,
}

/// Applies [`IpAllowlist`]. With no networks configured, everyone is allowed.
#[derive(Debug, Clone)]
pub struct IpAllowlistLayer {
    lists: Arc<Lists>,
}

impl Default for IpAllowlistLayer {
    fn default() -> Self {
        Self {
            lists: Arc::new(Lists {
                allowed: Vec::new(),
                proxies: Vec::new(),
            }),
        }
    }
}

impl IpAllowlistLayer {
    /// Allows only these networks (IPv4 and IPv6, CIDR or single addresses).
    pub fn new<I, S>(allowed: I) -> Result<Self, InvalidNetwork>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(Self {
            lists: Arc::new(Lists {
                allowed: parse_nets(allowed)?,
                proxies: Vec::new(),
            }),
        })
    }

    /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed.
    pub fn trusted_proxies<I, S>(self, proxies: I) -> Result<Self, InvalidNetwork>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(Self {
            lists: Arc::new(Lists {
                allowed: self.lists.allowed.clone(),
                proxies: parse_nets(proxies)?,
            }),
        })
    }

    /// Whether any network is configured (otherwise the layer lets all in).
    pub fn is_active(&self) -> bool {
        !self.lists.allowed.is_empty()
    }
}

impl<S> Layer<S> for IpAllowlistLayer {
    type Service = IpAllowlist<S>;

    fn layer(&self, inner: S) -> Self::Service {
        IpAllowlist {
            inner,
            lists: self.lists.clone(),
        }
    }
}

/// The allowlist service. See [`IpAllowlistLayer`].
#[derive(Debug, Clone)]
pub struct IpAllowlist<S> {
    inner: S,
    lists: Arc<Lists>,
}

/// The addresses a request passed through, nearest last: the forwarded
/// chain, then the peer.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let mut chain = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        if let Ok(value) = value.to_str() {
            chain.extend(value.split(',').filter_map(|a| parse_hop(a.trim())));
        }
    }
    if chain.is_empty() {
        for value in headers.get_all("forwarded") {
            if let Ok(value) = value.to_str() {
                for element in value.split(',') {
                    for pair in element.split(';') {
                        if let Some((k, v)) = pair.trim().split_once('=') {
                            if k.trim().eq_ignore_ascii_case("for") {
                                chain.extend(parse_hop(v.trim().trim_matches('"')));
                            }
                        }
                    }
                }
            }
        }
    }
    chain
}

/// An address in a forwarding header: `203.0.113.7`, `203.0.113.7:5000`,
/// `[2001:db8::1]`, `[2001:db8::1]:5000`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.split(']').next())
        .and_then(|h| h.parse().ok())
}

impl Lists {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client: the peer, or, behind trusted proxies, the rightmost
    /// forwarded hop that is not one of them.
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        forwarded_chain(headers)
            .into_iter()
            .rev()
            .find(|hop| !self.trusted(*hop))
            .unwrap_or(peer)
    }

    fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        self.allowed.iter().any(|n| n.contains(&ip))
    }
}

impl<S, B> Service<Request<B>> for IpAllowlist<S>
where
    S: Service<Request<B>, Response = GatewayResponse> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = GatewayResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let lists = &self.lists;
        let allowed = lists.allowed.is_empty()
            || request
                .extensions()
                .get::<ClientAddr>()
                .map(|peer| lists.client(peer.0.ip(), request.headers()))
                .is_some_and(|client| lists.allows(client));
        if !allowed {
            // No ClientAddr with a list configured: refuse rather than guess.
            let response = Rejection::new(
                ErrorCode::IpNotAllowed,
                "requests from this address are not accepted",
            )
            .into_response();
            return ResponseFuture::new(async move { Ok(response) });
        }
        let mut inner = take_ready(&mut self.inner);
        ResponseFuture::new(async move { inner.call(request).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(allowed: &[&str], proxies: &[&str]) -> Lists {
        Lists {
            allowed: parse_nets(allowed).unwrap(),
            proxies: parse_nets(proxies).unwrap(),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn ipv6_networks_and_ipv4_mapped_peers() {
        let l = lists(&["2001:db8::/32", "203.0.113.0/24"], &[]);
        assert!(l.allows("2001:db8::1".parse().unwrap()));
        assert!(!l.allows("2001:db9::1".parse().unwrap()));
        assert!(
            l.allows("::ffff:203.0.113.4".parse().unwrap()),
            "dual-stack sockets report IPv4 as mapped"
        );
    }

    #[test]
    fn forwarded_header_with_ports_quotes_and_brackets() {
        let l = lists(&[], &["10.0.0.1"]);
        let peer = "10.0.0.1".parse().unwrap();
        let h = headers(&[(
            "forwarded",
            r#"for=198.51.100.1;proto=https, for="[2001:db8::7]:4711""#,
        )]);
        assert_eq!(l.client(peer, &h), "2001:db8::7".parse::<IpAddr>().unwrap());
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1:5000"),
            ("x-forwarded-for", "203.0.113.2"),
        ]);
        assert_eq!(l.client(peer, &h), "203.0.113.2".parse::<IpAddr>().unwrap());
        let h = headers(&[("x-forwarded-for", "garbage, 10.0.0.1")]);
        assert_eq!(l.client(peer, &h), peer, "nothing usable: the peer itself");
    }

    #[test]
    fn bad_networks_are_named() {
        assert_eq!(
            parse_nets(["10.0.0.0/33"]).unwrap_err(),
            InvalidNetwork("10.0.0.0/33".into())
        );
        assert!(parse_nets(["10.0.0.1", "::1"]).is_ok());
    }
}

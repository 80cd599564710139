//! The sysproxy ("rump_sp") wire protocol, version 0.4, on amd64.
//!
//! Types and encodings only: frame headers, message bodies, the banner, an
//! incremental frame decoder and server URL parsing. No threads, no I/O
//! policy; the server (`host`) and the client library (`rumpclient`) build
//! their connections on these pieces.
#![deny(unsafe_code)]

pub mod banner;
pub mod decoder;
pub mod frame;
pub mod url;

pub use decoder::{DecodeError, FrameDecoder};
pub use frame::{Frame, Header};

//! Alibaba Cloud through its OpenAPI, signed here (there is no maintained Rust
//! SDK). This first part is the request signing.

pub mod sign;

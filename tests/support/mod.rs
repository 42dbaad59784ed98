//! Test servers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different part

pub mod faulty;
pub mod moto;

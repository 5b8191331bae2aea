//! The harness the `api` and `processes` test binaries share (each uses all of it): a database
//! made for one test, the real server in this process on a random port, and a typed client
//! that calls it over real HTTP the way the browser does.

pub mod client;
pub mod db;
pub mod server;

//! How to reach the database, in one direction: [`params`] (plain values) ← [`url`] (parsing the
//! URL and the libpq environment) ← [`tls`] (the rustls setup per `sslmode`) ← [`connect`]
//! (opening the session). [`secrets`] keeps passwords out of what is printed.

pub mod connect;
pub mod params;
pub mod secrets;
pub mod tls;
pub mod url;

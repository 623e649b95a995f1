//! outage tests.

//! commands tests.

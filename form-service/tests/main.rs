//! The form service's integration tests, in one binary so it links once.
//!
//! `backup`: backup under load, restore, the service on the restored data;
//! `router`: the app through `oneshot` (every hostile case); `email`: mail received by a
//! real SMTP server (in the test process); `outage`: the server down, then up; `process`: the
//! built binary killed and restarted, and the staff commands; `browser`: Chromium
//! submitting the generated site's form; `browser_members`: Chromium joining the
//! loyalty programme by the emailed link; `browser_booking`: the booking path on a
//! phone; `retention`: the service purging what is past `retention_days` by itself;
//! `proxy`: all of that over HTTPS behind the real Caddy and nginx, staff moderation
//! included.

// Test helpers are `pub` inside a private module tree; the lint is for library APIs.
#![allow(unreachable_pub)]

mod support;

mod backup;
mod browser;
mod browser_booking;
mod browser_members;
mod check;
mod commands;
mod comments;
mod deploy;
mod email;
mod members;
mod metrics;
mod outage;
mod process;
mod proxy;
mod retention;
mod router;
mod trust;
mod upgrade;

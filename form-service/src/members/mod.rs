//! The loyalty programme: accounts confirmed by emailed link (double opt-in), sign-in
//! links instead of passwords, sessions, referrals, rewards, and the append-only points
//! ledger that every balance is summed from.
//!
//! Everything here is plain functions over a database transaction; `http::members`
//! puts them behind pages and `cmd::members` behind staff commands.

pub mod accounts;
pub mod ledger;
pub mod mail;
pub mod privacy;
pub mod rewards;
pub mod token;

//! Issue 13 (part B): what a copy of the data folder, a log, `forget`, `purge`, `/health`,
//! a mail server's refusal, a crowd of idle sockets and a busy household can and cannot
//! do. Each test names the item it pins.

mod connections;
mod forget;
mod health;
mod limits;
mod publish;
mod rest;
mod smtp;

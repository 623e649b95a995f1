//! One module per command. Each sets options, calls the library and reports; exit
//! codes are chosen in `main`.

pub mod build;
pub mod check;
pub mod init;
pub mod new;
pub mod schema;
pub mod serve;
pub mod spare;

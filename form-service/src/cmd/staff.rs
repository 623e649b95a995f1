//! `form-service staff sessions`: the browsers signed in as staff, and ending their
//! sign-in (a lost phone, someone who left). An address removed from
//! `form_service.staff.addresses` stops being staff at once without this.

use crate::error::Usage;
use std::fmt::Write;
use std::path::Path;

use crate::cli::StaffAction;
use crate::staff::{self, Revoke};
use crate::{Clock, Error};

pub(super) fn run(data_dir: &Path, action: StaffAction) -> Result<(), Error> {
    let conn = super::open_db(data_dir)?;
    let now = Clock::default().now();
    let StaffAction::Sessions {
        revoke,
        revoke_email,
        revoke_all,
    } = action;
    let which = match (revoke, revoke_email, revoke_all) {
        (Some(id), _, _) => Some(Revoke::Id(id)),
        (_, Some(email), _) => Some(Revoke::Email(email)),
        (_, _, true) => Some(Revoke::All),
        _ => None,
    };
    if let Some(which) = which {
        let n = staff::revoke(&conn, &which, now)?;
        if n == 0 && matches!(which, Revoke::Id(_)) {
            return Err(Usage::NoStaffSession.into());
        }
        return super::print(&format!("Ended {n} staff session(s).\n"));
    }
    let mut out = String::from("id\taddress\tsigned in\texpires\n");
    for s in staff::list(&conn, now)? {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}",
            s.id,
            s.email,
            super::utc(s.created_at),
            super::utc(s.expires_at)
        );
    }
    super::print(&out)
}

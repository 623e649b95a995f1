//! `comments:` in `site.yaml`: how members' comments are moderated and published. The
//! form itself is declared under `forms:` with `kind: comment`.

use serde::{Deserialize, Serialize};

/// Settings for comments; every field has a default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommentsConfig {
    /// The comment form's name in `forms:`.
    #[serde(default = "default_form")]
    pub form: String,
    /// Comments one member may post in 24 hours.
    #[serde(default = "default_daily_limit")]
    pub daily_limit: u32,
    /// Days a moderation link in a staff email works.
    #[serde(default = "default_link_days")]
    pub moderation_link_days: u32,
    /// Shell command run (from the site root) after a comment is approved, rejected,
    /// replied to or erased, once the comments file is written: for example
    /// `generator build && rsync -a dist/ host:/srv/site/`. Without it, staff publish
    /// by hand (see the README).
    #[serde(default)]
    pub publish_command: Option<String>,
    /// Environment variables of the service passed on to `publish_command`, by name
    /// (`[RSYNC_RSH, DEPLOY_KEY]`). The command gets only these, `PATH`, `HOME` and
    /// `COMMENTS_FILE`: never the service's own secrets, such as `SMTP_URL`.
    #[serde(default)]
    pub publish_env: Vec<String>,
    /// Seconds to wait after a change before publishing, so a run of approvals
    /// publishes once.
    #[serde(default = "default_debounce")]
    pub publish_delay_seconds: u32,
    /// The reasons staff choose from when they reject a comment; the member is told
    /// the one chosen.
    #[serde(default = "default_reasons")]
    pub reject_reasons: Vec<String>,
}

fn default_form() -> String {
    "comment".into()
}
fn default_daily_limit() -> u32 {
    5
}
fn default_link_days() -> u32 {
    7
}
fn default_debounce() -> u32 {
    10
}
fn default_reasons() -> Vec<String> {
    [
        "It includes personal or medical details that should stay private.",
        "It is not about this treatment.",
        "It advertises something or links to unrelated sites.",
        "It is not written respectfully.",
    ]
    .map(String::from)
    .to_vec()
}

impl Default for CommentsConfig {
    fn default() -> Self {
        serde_yaml::from_str("{}").expect("an empty comments section has defaults")
    }
}

//! The command line, declared with clap; doc comments are the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Builds the clinic's website from Markdown content and a theme.
///
/// Exit status: 0 when everything worked, 1 when the site has problems (each is
/// printed as `file:line:column: message`) or a file or the preview server failed,
/// 2 when the command was used wrongly.
#[derive(Debug, Parser)]
#[command(name = "generator", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The generator's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site into the output folder (replaced only when the build succeeds).
    Build {
        /// The site root, holding site.yaml.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Where to write the site [default: dist in the site root].
        #[arg(long)]
        output: Option<PathBuf>,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Use this address instead of base_url from site.yaml.
        #[arg(long)]
        base_url: Option<String>,
        /// Post forms to this form service instead of form_service.url from site.yaml.
        #[arg(long)]
        form_service_url: Option<String>,
        /// Published comments to show on service pages [default: data/comments.json in the
        /// site root, when it exists].
        #[arg(long, value_name = "PATH")]
        comments: Option<PathBuf>,
    },
    /// Check everything a build checks, plus links, anchors, images and alt text; writes nothing.
    Check {
        /// The site root, holding site.yaml.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Also check pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Published comments to show on service pages [default: data/comments.json in the
        /// site root, when it exists].
        #[arg(long, value_name = "PATH")]
        comments: Option<PathBuf>,
    },
    /// Serve a live preview that rebuilds on every save and reloads open tabs.
    Serve {
        /// The site root, holding site.yaml.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Published comments to show on service pages [default: data/comments.json in the
        /// site root, when it exists].
        #[arg(long, value_name = "PATH")]
        comments: Option<PathBuf>,
    },
    /// Start a new site in DIR: settings, the first pages and the default theme.
    Init {
        /// The folder to create (it must not exist, or be empty).
        dir: PathBuf,
    },
    /// Write the JSON Schema of the front matter to .generator/ in the site root, for
    /// editors' YAML tools (`build` and `new` write it too).
    Schema {
        /// The site root, holding site.yaml.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Create a new page from a template with every field explained.
    New {
        /// What to create.
        #[command(subcommand)]
        what: NewCommand,
    },
    /// Prepare the spare output beside OUTPUT for the next build (run in the background
    /// by `build`).
    #[command(hide = true)]
    PrepareSpare {
        /// The site root, holding site.yaml.
        #[arg(long)]
        root: PathBuf,
        /// The output folder built last.
        #[arg(long)]
        output: PathBuf,
    },
}

/// Things `new` can create.
#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A service page at content/services/<slug>.md.
    // The doc comment is the help text, which prints `<slug>` as written.
    #[allow(rustdoc::invalid_html_tags)]
    Service {
        /// The service's name, such as "Laser Hair Removal".
        title: String,
        /// The site root, holding site.yaml.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}

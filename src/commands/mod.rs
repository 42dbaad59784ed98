//! One module per `opsdeck` command. Each reads the user's files before it
//! touches the terminal, and returns errors for `main` to turn into exit codes.

pub mod act;
pub mod creds;
pub mod docs;
pub mod doctor;
pub mod export;
pub mod init;
pub mod run;
pub mod snapshot;
pub mod timeline;
pub mod wallboard;

use anyhow::Context;
use opsdeck::config::Config;
use opsdeck::theme::{ColorMode, Theme};

use crate::cli::{Cli, ColorChoice};

/// The async runtime every command runs on, built in this one place.
///
/// Multi-threaded: the console draws from the future `block_on` drives on the main
/// thread while the polls run on the workers, so a poll busy decoding a large
/// answer does not hold up a frame. Two workers: the work is mostly waiting on the
/// network, and two keep one busy poll from delaying the rest without a thread per
/// core. Blocking calls (keyring, files) go to tokio's separate blocking pool.
fn async_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The theme the command line names, else the config's, else the default;
/// drawn in the colour depth and glyph set the flags ask for.
fn theme(cli: &Cli, config: &Config) -> anyhow::Result<Theme> {
    let theme_name = cli.theme.clone().or(config.theme.clone()).unwrap_or_else(|| "default".into());
    Ok(Theme::load(&theme_name, Config::themes_dir().as_deref(), color_mode(cli.color))?.with_ascii(cli.ascii))
}

fn color_mode(choice: ColorChoice) -> ColorMode {
    let no_color = std::env::var("NO_COLOR").is_ok_and(|v| !v.is_empty());
    match choice {
        _ if no_color => ColorMode::None,
        ColorChoice::Auto => ColorMode::from_env(),
        ColorChoice::Ansi16 => ColorMode::Ansi16,
        ColorChoice::Ansi256 => ColorMode::Ansi256,
        ColorChoice::Truecolor => ColorMode::TrueColor,
    }
}

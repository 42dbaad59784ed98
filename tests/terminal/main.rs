//! Run it from a shell and in a real terminal: the built binary driven by keys
//! in tmux (panes, drills, actions, signals, panics, ASCII mode, the wallboard),
//! installed by install.sh, and what its command line says about itself.
//! One test binary:
//!
//! - `e2e_tmux`: the console end to end in tmux; the terminal is usable afterwards.
//! - `install`: install.sh into a temporary prefix, upgrade, uninstall.
//! - `cli_help`: `--help` of every command, the man page and the completions
//!   (insta snapshots).

#[path = "../support/mod.rs"]
mod support;

mod cli_help;
mod e2e_tmux;
mod install;

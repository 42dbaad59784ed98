//! `opsdeck completions SHELL` and `opsdeck man`: documentation generated from
//! the clap types, for install.sh.

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    clap_complete::generate(shell, &mut Cli::command(), "opsdeck", &mut std::io::stdout());
    Ok(())
}

/// The man page, in roff.
pub fn man() -> anyhow::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(())
}

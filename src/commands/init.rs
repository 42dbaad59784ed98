//! `opsdeck init`: a commented sample config that selects the demo.

use std::path::PathBuf;

use anyhow::Context;
use opsdeck::config::{Config, SAMPLE};

pub fn run(path: Option<PathBuf>, force: bool) -> anyhow::Result<()> {
    let path =
        path.or_else(Config::default_path).context("no config directory could be determined; pass --config PATH")?;
    if path.exists() && !force {
        anyhow::bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, SAMPLE).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

//! install.sh into a temporary prefix: the installed binary runs, completions and
//! the man page are there, a second run upgrades in place, and --uninstall leaves
//! the prefix empty.

use crate::support;

use std::path::Path;
use std::process::Command;
use support::files_under;

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

fn install(prefix: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh"))
        .arg("--prefix")
        .arg(prefix)
        .args(extra)
        .output()
        .expect("run install.sh")
}

#[test]
fn install_upgrade_and_uninstall() {
    let prefix = tempfile::tempdir().expect("tempdir");
    let out = install(prefix.path(), &["--binary", BIN]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let installed = prefix.path().join("bin/opsdeck");
    let v = Command::new(&installed).arg("--version").output().expect("run installed");
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("opsdeck "));
    let man = std::fs::read_to_string(prefix.path().join("share/man/man1/opsdeck.1")).expect("man page");
    assert!(man.contains(".TH opsdeck") && man.contains("snapshot"), "generated from the CLI");
    let bash = std::fs::read_to_string(prefix.path().join("share/bash-completion/completions/opsdeck")).expect("bash");
    assert!(bash.contains("failover"));
    assert!(prefix.path().join("share/zsh/site-functions/_opsdeck").exists());
    assert!(prefix.path().join("share/fish/vendor_completions.d/opsdeck.fish").exists());
    let count = files_under(prefix.path()).len();

    let again = install(prefix.path(), &["--binary", BIN]);
    assert!(again.status.success());
    assert_eq!(files_under(prefix.path()).len(), count, "an upgrade replaces, it does not pile up");

    let out = install(prefix.path(), &["--uninstall"]);
    assert!(out.status.success());
    assert!(files_under(prefix.path()).is_empty(), "left behind: {:?}", files_under(prefix.path()));
    assert_eq!(std::fs::read_dir(prefix.path()).expect("prefix").count(), 0, "no empty directories either");
}

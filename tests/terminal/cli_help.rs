//! What the command line says about itself, pinned as insta snapshots: `--help`
//! of opsdeck and of every command (and every command's own subcommands), the
//! man page and the shell completions install.sh installs. The commands are
//! read from the real binary's help and must equal the list written here, so a
//! new command is added to this list, and its help reviewed, on purpose.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

/// Every command `opsdeck --help` lists (clap's own `help` aside).
const COMMANDS: &[&str] = &[
    "run",
    "wallboard",
    "init",
    "snapshot",
    "export",
    "timeline",
    "creds",
    "doctor",
    "failover",
    "drain",
    "scale",
    "ack",
    "unack",
    "undo",
];

/// Every subcommand `opsdeck creds --help` lists (clap's own `help` aside).
const CREDS_COMMANDS: &[&str] = &["set", "get", "list", "rm"];

/// Commands kept out of the help (install.sh runs them), each with its own help.
const HIDDEN: &[&str] = &["completions", "man"];

/// The shells whose completions install.sh installs.
const SHELLS: &[&str] = &["bash", "zsh", "fish"];

/// `opsdeck <args>` with nothing from the environment (clap shows the value of an
/// option's environment variable in the help); its standard output. The version
/// is masked so a release does not change every snapshot.
fn opsdeck(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env_clear().output().expect("run opsdeck");
    assert!(out.status.success(), "opsdeck {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "opsdeck {args:?} wrote to stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// The names in the `Commands:` section of a help text, clap's `help` left out.
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

#[test]
fn the_top_level_help_lists_exactly_the_known_commands() {
    let help = opsdeck(&["--help"]);
    assert_eq!(commands_in(&help), COMMANDS, "a command was added or removed: update COMMANDS and review its help");
    for hidden in HIDDEN {
        assert!(!commands_in(&help).iter().any(|c| c == hidden), "{hidden} is listed");
    }
    insta::assert_snapshot!("help", help);
}

#[test]
fn every_command_has_its_help() {
    let listed = commands_in(&opsdeck(&["--help"]));
    for cmd in listed.iter().map(String::as_str).chain(HIDDEN.iter().copied()) {
        let help = opsdeck(&[cmd, "--help"]);
        assert!(help.contains(&format!("Usage: opsdeck {cmd}")), "{cmd}: {help}");
        insta::assert_snapshot!(format!("help_{cmd}"), help);
    }
}

#[test]
fn every_creds_subcommand_has_its_help() {
    let help = opsdeck(&["creds", "--help"]);
    assert_eq!(commands_in(&help), CREDS_COMMANDS, "a creds subcommand was added or removed");
    for sub in CREDS_COMMANDS {
        let help = opsdeck(&["creds", sub, "--help"]);
        assert!(help.contains(&format!("Usage: opsdeck creds {sub}")), "{sub}: {help}");
        insta::assert_snapshot!(format!("help_creds_{sub}"), help);
    }
}

/// Only `creds` has subcommands: a command that grows some is noticed here.
#[test]
fn no_other_command_has_subcommands() {
    for cmd in COMMANDS.iter().chain(HIDDEN).filter(|c| **c != "creds") {
        let help = opsdeck(&[cmd, "--help"]);
        assert!(commands_in(&help).is_empty(), "{cmd} has subcommands: snapshot their help too:\n{help}");
    }
}

#[test]
fn the_man_page() {
    let man = opsdeck(&["man"]);
    assert!(man.contains(".TH opsdeck 1"), "{man}");
    insta::assert_snapshot!("man_page", man);
}

#[test]
fn the_shell_completions() {
    for shell in SHELLS {
        let script = opsdeck(&["completions", shell]);
        for cmd in COMMANDS {
            assert!(script.contains(cmd), "{shell} completions lack {cmd}");
        }
        insta::assert_snapshot!(format!("completions_{shell}"), script);
    }
}

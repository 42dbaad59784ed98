//! The crate's layers, checked from the source: config, model, providers and
//! actions import one another in one direction only (model ← config ← providers ←
//! actions), so a provider can be added, or a config table moved, without a circle
//! pulling the rest along. The graph is read from every `crate::<module>` path in
//! src/ (`use` lines and paths written inline, test code too), after comments and
//! string literals are removed.
//!
//! `IMPORT_GRAPH_SRC=/path/to/src cargo test --test import_graph` checks another tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers whose imports must not form a circle.
const LAYERS: [&str; 4] = ["config", "providers", "actions", "model"];

/// Top-level module → the top-level modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn config_providers_actions_and_model_import_each_other_in_one_direction_only() {
    let src = std::env::var_os("IMPORT_GRAPH_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let graph = graph_of(&src);
    assert!(graph.contains_key("providers") && graph.contains_key("config"), "no sources read under {src:?}");
    let problems = circles(&graph);
    assert!(problems.is_empty(), "import circles in {src:?}:\n{}", problems.join("\n"));
    for layer in ["config", "providers", "actions"] {
        assert!(!graph["model"].contains(layer), "model imports {layer}: it must import none of the other layers");
    }
    assert!(!graph["config"].contains("providers"), "config imports providers");
}

/// The checker finds a circle when there is one, also through a module outside
/// the four layers, and not when imports go one way.
#[test]
fn the_checker_sees_a_circle_through_any_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(p, text).expect("write");
    };
    write("model/mod.rs", "pub struct M;\n");
    write("config.rs", "use crate::model::M;\n// crate::providers in a comment\nconst S: &str = \"crate::actions\";\n");
    write("providers/mod.rs", "use crate::config;\nfn f() -> crate::model::M { todo!() }\n");
    write("actions/run.rs", "use crate::{model::M, providers};\nuse super::super::collector;\n");
    write("collector.rs", "pub fn c() {}\n");
    // A leaf of ui (used by providers) is not ui, which uses actions.
    write("ui/mod.rs", "pub mod sanitize;\nuse crate::actions::run;\n");
    write("ui/sanitize.rs", "pub fn sanitize() {}\n");
    write("ui/pane.rs", "use super::sanitize::sanitize;\n");
    write("providers/words.rs", "fn f() { crate::ui::sanitize::sanitize() }\n");
    let g = graph_of(dir.path());
    assert_eq!(g["ui::pane"], BTreeSet::from(["ui::sanitize".to_string()]));
    assert!(g["providers"].contains("ui::sanitize") && g["ui"].contains("actions"));
    assert_eq!(g["config"], BTreeSet::from(["model".to_string()]), "comments and strings are not imports");
    assert_eq!(g["actions"], BTreeSet::from(["collector", "model", "providers"].map(String::from)));
    assert!(circles(&g).is_empty(), "{:?}", circles(&g));

    // config → collector → actions → providers → config: a circle through a module outside the layers.
    write("collector.rs", "pub fn c() { crate::actions::go() }\n");
    assert!(circles(&graph_of(dir.path())).is_empty(), "collector → actions alone closes nothing");
    write("config.rs", "use crate::model::M;\nfn f() { crate::collector::c() }\n");
    let found = circles(&graph_of(dir.path()));
    assert!(found.iter().any(|c| c.contains("config") && c.contains("actions")), "{found:?}");
}

/// Every pair of layers that reach each other, with a path each way.
fn circles(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in LAYERS.iter().enumerate() {
        for b in &LAYERS[i + 1..] {
            if let (Some(there), Some(back)) = (path(graph, a, b), path(graph, b, a)) {
                out.push(format!("{} and back: {}", there.join(" → "), back.join(" → ")));
            }
        }
    }
    out
}

/// A shortest import path from `from` to `to`, if any.
fn path(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut came: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_string()]);
    let mut seen = BTreeSet::from([from.to_string()]);
    while let Some(m) = queue.pop_front() {
        for next in graph.get(&m).into_iter().flatten() {
            if !seen.insert(next.clone()) {
                continue;
            }
            came.insert(next.clone(), m.clone());
            if next == to {
                let mut p = vec![to.to_string()];
                while let Some(prev) = came.get(p.last().expect("non-empty")) {
                    p.push(prev.clone());
                }
                p.reverse();
                return Some(p);
            }
            queue.push_back(next.clone());
        }
    }
    None
}

/// The import graph of the crate rooted at `src` (lib.rs / main.rs themselves are
/// the root, not a module, and are left out). The four layers are one node each;
/// any other module with a folder is one node per file, as `cargo modules` would
/// see it: `ui::sanitize` (a leaf every layer may use) is not `ui` (which draws
/// the dialogs of `actions`).
fn graph_of(src: &Path) -> Graph {
    let mut graph = Graph::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).expect("under src");
        let mut module: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
        let last = module.pop().expect("file name");
        if last != "mod.rs" {
            module.push(last.trim_end_matches(".rs").to_string());
        }
        if module.is_empty() || module == ["lib"] || module == ["main"] {
            continue;
        }
        let me = node(src, &module[0], module.get(1).map(String::as_str));
        let text = std::fs::read_to_string(&file).expect("read source");
        let named = graph.entry(me.clone()).or_default();
        for (top, sub) in modules_named(&code_only(&text), &module) {
            let target = node(src, &top, sub.as_deref());
            if target != me {
                named.insert(target);
            }
        }
    }
    graph
}

/// The node of `crate::top::sub`: the layer, or the file's own module elsewhere.
fn node(src: &Path, top: &str, sub: Option<&str>) -> String {
    match sub {
        Some(sub)
            if !LAYERS.contains(&top)
                && (src.join(top).join(format!("{sub}.rs")).is_file() || src.join(top).join(sub).is_dir()) =>
        {
            format!("{top}::{sub}")
        }
        _ => top.to_string(),
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The modules a file's paths name, as (top-level module, the name after it):
/// `crate::x::y`, `crate::{x, y::z}`, and `super::` chains that climb to the crate
/// root, or to the top-level module, from a file in `module`.
fn modules_named(code: &str, module: &[String]) -> BTreeSet<(String, Option<String>)> {
    let tokens = path_tokens(code);
    let at = |k: usize| tokens.get(k).map(String::as_str);
    // The name at `k` and, when `::name` follows, that name too.
    let named = |k: usize| -> Option<(String, Option<String>)> {
        let first = at(k).filter(|t| is_ident(t) && *t != "self")?;
        let second = (at(k + 1) == Some("::")).then(|| at(k + 2)).flatten().filter(|t| is_ident(t));
        Some((first.to_string(), second.map(String::from)))
    };
    let mut out = BTreeSet::new();
    for (i, t) in tokens.iter().enumerate() {
        // A path starts at `crate` or `super` not preceded by `::`.
        if i > 0 && tokens[i - 1] == "::" {
            continue;
        }
        // `from`: the index of the `::` after which the path goes on from `prefix`.
        let (from, prefix) = match t.as_str() {
            "crate" => (i + 1, None),
            "super" => {
                let (mut j, mut depth) = (i, module.len());
                while at(j) == Some("super") && at(j + 1) == Some("::") {
                    depth = depth.saturating_sub(1);
                    j += 2;
                }
                match depth {
                    0 => (j - 1, None),
                    // Inside the top-level module: its own sub-module.
                    1 if j > i => (j - 1, Some(module[0].clone())),
                    _ => continue,
                }
            }
            _ => continue,
        };
        if at(from) != Some("::") {
            continue;
        }
        let mut found = Vec::new();
        if at(from + 1) == Some("{") {
            let mut level = 0;
            let mut expect_name = true;
            for (k, t) in tokens.iter().enumerate().skip(from + 2) {
                match t.as_str() {
                    "{" => level += 1,
                    "}" if level == 0 => break,
                    "}" => level -= 1,
                    "," if level == 0 => expect_name = true,
                    _ if level == 0 && expect_name => {
                        found.extend(named(k));
                        expect_name = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.extend(named(from + 1));
        }
        for (first, second) in found {
            out.insert(match &prefix {
                Some(top) => (top.clone(), Some(first)),
                None => (first, second),
            });
        }
    }
    out
}

fn is_ident(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Identifiers, `::` and single punctuation marks, in order.
fn path_tokens(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut word = c.to_string();
            while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                word.push(n);
                chars.next();
            }
            out.push(word);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.push("::".into());
        } else if !c.is_whitespace() {
            // Braces and commas matter (`crate::{a, b}`); other marks only split.
            out.push(c.to_string());
        }
    }
    out
}

/// The text with comments, string and char literals blanked (lifetimes kept).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&b, i) {
            // Raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match b.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    _ => j += 1,
                }
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1b}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

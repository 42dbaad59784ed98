//! Themes: `themes/*.toml` (embedded) or a file of the user's, resolved for the
//! terminal's colour depth. Each theme carries an explicit 16-colour value per
//! role, so a 16-colour terminal gets what the theme's author chose, not a guess.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::toml_file::{self, TomlError};

const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../themes/default.toml")),
    ("light", include_str!("../themes/light.toml")),
    ("high-contrast", include_str!("../themes/high-contrast.toml")),
];

/// Names of the themes shipped inside the binary.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorMode {
    #[value(name = "truecolor")]
    TrueColor,
    #[value(name = "256")]
    Ansi256,
    #[value(name = "16")]
    Ansi16,
    /// No colour at all (NO_COLOR): emphasis by bold and reverse video only.
    #[value(skip)]
    None,
}

impl ColorMode {
    /// What the terminal says it can do. NO_COLOR (any non-empty value) wins.
    pub fn detect(no_color: Option<&str>, colorterm: Option<&str>, term: Option<&str>) -> ColorMode {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return ColorMode::None;
        }
        if colorterm.is_some_and(|c| c.eq_ignore_ascii_case("truecolor") || c.eq_ignore_ascii_case("24bit")) {
            return ColorMode::TrueColor;
        }
        if term.is_some_and(|t| t.contains("256color")) {
            return ColorMode::Ansi256;
        }
        ColorMode::Ansi16
    }

    pub fn from_env() -> ColorMode {
        let var = |k| std::env::var(k).ok();
        ColorMode::detect(var("NO_COLOR").as_deref(), var("COLORTERM").as_deref(), var("TERM").as_deref())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    colors: Colors,
}

/// (truecolor, 16-colour) per role.
type Pair = [String; 2];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Colors {
    fg: Pair,
    bg: Pair,
    muted: Pair,
    accent: Pair,
    border: Pair,
    header_fg: Pair,
    header_bg: Pair,
    selection_fg: Pair,
    selection_bg: Pair,
    ok: Pair,
    warn: Pair,
    crit: Pair,
    unknown: Pair,
    p0: Pair,
    p1: Pair,
    p2: Pair,
    p3: Pair,
    badge_fg: Pair,
    badge_bg: Pair,
}

/// Resolved styles, ready to draw with.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub mode: ColorMode,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub border: Style,
    pub header: Style,
    pub selection: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    pub unknown: Style,
    pub severity: [Style; 4],
    pub badge: Style,
    /// Draw with ASCII only (`--ascii`): box drawing and glyphs get stand-ins.
    pub ascii: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    // Not #[from]: that would also make it the error's source, and a reporter that
    // prints the chain would say the same file:line:column twice.
    #[error("theme {0}")]
    File(TomlError),
    #[error("no theme named '{name}' (built in: {builtin}; or give a path to a .toml file)")]
    Unknown { name: String, builtin: String },
}

impl From<TomlError> for ThemeError {
    fn from(e: TomlError) -> Self {
        ThemeError::File(e)
    }
}

impl Theme {
    /// A theme by built-in name, by name in `user_dir`, or by path.
    pub fn load(spec: &str, user_dir: Option<&Path>, mode: ColorMode) -> Result<Theme, ThemeError> {
        let looks_like_path = spec.contains('/') || spec.ends_with(".toml");
        if looks_like_path {
            let file: ThemeFile = toml_file::read(Path::new(spec))?;
            return Ok(Self::resolve(Path::new(spec), file, mode)?);
        }
        if let Some(dir) = user_dir {
            let p: PathBuf = dir.join(format!("{spec}.toml"));
            if p.is_file() {
                let file: ThemeFile = toml_file::read(&p)?;
                return Ok(Self::resolve(&p, file, mode)?);
            }
        }
        let (name, text) = BUILTIN.iter().find(|(n, _)| *n == spec).ok_or_else(|| ThemeError::Unknown {
            name: spec.to_string(),
            builtin: builtin_names().collect::<Vec<_>>().join(", "),
        })?;
        let path = PathBuf::from(format!("themes/{name}.toml (built in)"));
        let file: ThemeFile = toml_file::parse(&path, text)?;
        Ok(Self::resolve(&path, file, mode)?)
    }

    /// A theme from TOML text already read (`path` names it in errors): the
    /// parse-and-resolve step of [`Theme::load`] without the file system lookup.
    pub fn parse(path: &Path, text: &str, mode: ColorMode) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml_file::parse(path, text)?;
        Ok(Self::resolve(path, file, mode)?)
    }

    /// The same theme, drawn with ASCII only.
    pub fn with_ascii(mut self, ascii: bool) -> Theme {
        self.ascii = ascii;
        self
    }

    /// The default theme; always available.
    pub fn fallback(mode: ColorMode) -> Theme {
        Self::load("default", None, mode).unwrap_or_else(|_| Self::monochrome())
    }

    fn monochrome() -> Theme {
        let s = Style::default();
        Theme {
            name: "monochrome".into(),
            mode: ColorMode::None,
            base: s,
            muted: s.add_modifier(Modifier::DIM),
            accent: s.add_modifier(Modifier::BOLD),
            border: s,
            header: s.add_modifier(Modifier::REVERSED),
            selection: s.add_modifier(Modifier::REVERSED),
            ok: s,
            warn: s.add_modifier(Modifier::BOLD),
            crit: s.add_modifier(Modifier::BOLD | Modifier::REVERSED),
            unknown: s.add_modifier(Modifier::DIM),
            severity: [
                s.add_modifier(Modifier::BOLD | Modifier::REVERSED),
                s.add_modifier(Modifier::BOLD),
                s,
                s.add_modifier(Modifier::DIM),
            ],
            badge: s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            ascii: false,
        }
    }

    fn resolve(path: &Path, file: ThemeFile, mode: ColorMode) -> Result<Theme, TomlError> {
        if mode == ColorMode::None {
            // Still check every colour: a broken theme must fail alike on every
            // terminal, not only once NO_COLOR is unset.
            let name = file.name.clone();
            Self::resolve(path, file, ColorMode::TrueColor)?;
            return Ok(Theme { name, ..Self::monochrome() });
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let color = |key: &str, pair: &Pair| -> Result<Color, TomlError> {
            let (value, slot) = match mode {
                ColorMode::Ansi16 => (&pair[1], "16-colour"),
                _ => (&pair[0], "truecolor"),
            };
            let c = parse_color(value).ok_or_else(|| {
                toml_file::invalid(path, &text, key, None, format!("{key}: '{value}' is not a valid {slot} colour"))
            })?;
            // Check the other half too, so a broken theme fails on every terminal alike.
            let other = if slot == "16-colour" { &pair[0] } else { &pair[1] };
            parse_color(other).ok_or_else(|| {
                toml_file::invalid(path, &text, key, None, format!("{key}: '{other}' is not a valid colour"))
            })?;
            Ok(if mode == ColorMode::Ansi256 { to_256(c) } else { c })
        };
        let c = &file.colors;
        let fg = color("fg", &c.fg)?;
        let bg = color("bg", &c.bg)?;
        let base = Style::default().fg(fg).bg(bg);
        let fgs = |key: &str, p: &Pair| -> Result<Style, TomlError> { Ok(Style::default().fg(color(key, p)?)) };
        Ok(Theme {
            name: file.name,
            mode,
            base,
            muted: fgs("muted", &c.muted)?,
            accent: fgs("accent", &c.accent)?.add_modifier(Modifier::BOLD),
            border: fgs("border", &c.border)?,
            header: Style::default().fg(color("header_fg", &c.header_fg)?).bg(color("header_bg", &c.header_bg)?),
            selection: Style::default()
                .fg(color("selection_fg", &c.selection_fg)?)
                .bg(color("selection_bg", &c.selection_bg)?),
            ok: fgs("ok", &c.ok)?,
            warn: fgs("warn", &c.warn)?,
            crit: fgs("crit", &c.crit)?.add_modifier(Modifier::BOLD),
            unknown: fgs("unknown", &c.unknown)?,
            severity: [
                fgs("p0", &c.p0)?.add_modifier(Modifier::BOLD),
                fgs("p1", &c.p1)?,
                fgs("p2", &c.p2)?,
                fgs("p3", &c.p3)?,
            ],
            badge: Style::default()
                .fg(color("badge_fg", &c.badge_fg)?)
                .bg(color("badge_bg", &c.badge_bg)?)
                .add_modifier(Modifier::BOLD),
            ascii: false,
        })
    }
}

fn parse_color(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    Some(match s.to_ascii_lowercase().as_str() {
        "reset" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

/// Nearest colour of the xterm 256-colour cube or grey ramp.
fn to_256(c: Color) -> Color {
    let Color::Rgb(r, g, b) = c else { return c };
    let level = |v: u8| -> u8 {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            (v - 35) / 40
        }
    };
    let (lr, lg, lb) = (level(r), level(g), level(b));
    let cube = 16 + 36 * lr + 6 * lg + lb;
    let step = |l: u8| if l == 0 { 0 } else { 55 + 40 * i32::from(l) };
    let cube_dist = [(r, lr), (g, lg), (b, lb)].iter().map(|(v, l)| (i32::from(*v) - step(*l)).pow(2)).sum::<i32>();
    let avg = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let grey_idx = if avg > 238 { 23 } else { (avg.saturating_sub(3)) / 10 };
    let grey_v = 8 + 10 * grey_idx as i32;
    let grey_dist = [r, g, b].iter().map(|v| (i32::from(*v) - grey_v).pow(2)).sum::<i32>();
    if grey_dist < cube_dist { Color::Indexed(232 + grey_idx as u8) } else { Color::Indexed(cube) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_loads_in_every_mode() {
        for name in builtin_names() {
            for mode in [ColorMode::TrueColor, ColorMode::Ansi256, ColorMode::Ansi16, ColorMode::None] {
                let t = Theme::load(name, None, mode).unwrap_or_else(|e| panic!("{name} {mode:?}: {e}"));
                assert_eq!(t.name, name);
            }
        }
    }

    #[test]
    fn sixteen_colour_mode_uses_the_explicit_values() {
        let t = Theme::load("default", None, ColorMode::Ansi16).expect("theme");
        assert_eq!(t.ok.fg, Some(Color::Green));
        let t = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
        assert_eq!(t.ok.fg, Some(Color::Rgb(0xc3, 0xe8, 0x8d)));
    }

    #[test]
    fn no_color_wins_over_colorterm() {
        assert_eq!(ColorMode::detect(Some("1"), Some("truecolor"), Some("xterm-256color")), ColorMode::None);
        assert_eq!(ColorMode::detect(Some(""), Some("truecolor"), None), ColorMode::TrueColor);
        assert_eq!(ColorMode::detect(None, None, Some("screen-256color")), ColorMode::Ansi256);
        assert_eq!(ColorMode::detect(None, None, Some("vt100")), ColorMode::Ansi16);
    }

    #[test]
    fn broken_theme_file_names_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bad.toml");
        let text = include_str!("../themes/default.toml").replace("\"#c3e88d\", \"green\"", "\"#zzzzzz\", \"green\"");
        std::fs::write(&p, text).expect("write");
        let err = Theme::load(p.to_str().expect("utf8"), None, ColorMode::TrueColor).expect_err("bad colour");
        let msg = err.to_string();
        assert!(msg.contains("#zzzzzz") && msg.contains(":17:") && msg.contains("ok:"), "{msg}");
        assert!(
            Theme::load("nope", None, ColorMode::TrueColor).expect_err("unknown").to_string().contains("high-contrast")
        );
    }

    #[test]
    fn rgb_maps_into_the_256_palette() {
        assert_eq!(to_256(Color::Rgb(255, 0, 0)), Color::Indexed(196));
        assert_eq!(to_256(Color::Rgb(0, 0, 0)), Color::Indexed(16));
        assert_eq!(to_256(Color::Rgb(128, 128, 128)), Color::Indexed(244));
    }
}

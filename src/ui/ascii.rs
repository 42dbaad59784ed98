//! `--ascii`: after a frame is drawn, every cell that is not plain ASCII is
//! replaced by an ASCII stand-in (box drawing, blocks, status glyphs, arrows), so
//! serial consoles and poor fonts see a usable screen. One pass over the frame,
//! whatever drew it: no pane can forget to honour the flag.

use ratatui::buffer::Buffer;
use unicode_width::UnicodeWidthStr;

fn stand_in(c: char) -> char {
    match c {
        '─' | '━' | '═' | '╌' | '┄' => '-',
        '│' | '┃' | '║' | '╎' | '┆' => '|',
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' | '╭' | '╮' | '╯' | '╰' | '╔' | '╗' | '╚' | '╝' => {
            '+'
        }
        '█' | '▇' | '▆' => '#',
        '▅' | '▄' => '=',
        '▃' | '▂' => '-',
        '▁' => '_',
        '●' | '•' => '*',
        '○' => 'o',
        '▲' => '^',
        '✖' | '×' => 'x',
        '✔' => 'v',
        '…' => '~',
        '→' | '⇒' | '▶' => '>',
        '←' | '◀' => '<',
        '↑' => '^',
        '↓' => 'v',
        '⇄' | '↔' => '=',
        '·' => '.',
        '–' | '—' | '−' => '-',
        '≈' => '~',
        '\u{fffd}' => '?',
        c if c.is_ascii() => c,
        _ => '?',
    }
}

pub fn asciify(buf: &mut Buffer) {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        let mut x = area.left();
        while x < area.right() {
            let Some(cell) = buf.cell_mut((x, y)) else { break };
            let sym = cell.symbol();
            if sym.is_ascii() {
                x += 1;
                continue;
            }
            let width = sym.width().max(1) as u16;
            let first = sym.chars().next().map_or(' ', stand_in);
            cell.set_symbol(&first.to_string());
            // A wide character covered the next cell too; that cell becomes a space.
            for dx in 1..width {
                if let Some(next) = buf.cell_mut((x + dx, y)) {
                    next.set_symbol(" ");
                }
            }
            x += width;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn every_cell_becomes_ascii() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        buf.set_string(0, 0, "┌█●→東x…", ratatui::style::Style::default());
        asciify(&mut buf);
        let line: String = (0..12).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        assert!(line.is_ascii(), "{line}");
        assert!(line.starts_with("+#*>? x~"), "{line}");
    }
}

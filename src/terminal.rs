//! The terminal's life: raw mode and the alternate screen on the way in, and a
//! restore that runs on every way out (normal exit, error, panic, SIGTERM, SIGHUP).

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{cursor, execute, queue, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Set while the terminal is in raw mode / alternate screen, so restore runs once.
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Enter raw mode and the alternate screen; restore on panic too.
pub fn enter() -> io::Result<Term> {
    let _ = UI_THREAD.set(std::thread::current().id());
    install_panic_hook();
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    if let Err(e) = execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide) {
        restore();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(io::stdout())).inspect_err(|_| restore())
}

/// Put the terminal back as we found it. Safe to call more than once and from a
/// panic hook; errors are ignored because the terminal may already be gone (SIGHUP).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, EndSynchronizedUpdate, terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
}

/// The thread that draws: a panic there ends the session, so the hook restores.
static UI_THREAD: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A panic in a background task (a provider's poll) is caught by its task
        // and reported as that source failing; the screen stays up. Printing it
        // over the alternate screen would garble the frame, so it goes to the log.
        let on_ui_thread = UI_THREAD.get().is_none_or(|id| *id == std::thread::current().id());
        if ACTIVE.load(Ordering::SeqCst) && !on_ui_thread {
            log::error!("a background task panicked: {info}");
            return;
        }
        restore();
        previous(info);
    }));
}

/// Draw one frame inside a synchronized update (DEC mode 2026), so a slow link
/// never shows half a frame. Terminals without the mode ignore it.
pub fn draw_synchronized(term: &mut Term, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
    queue!(term.backend_mut(), BeginSynchronizedUpdate)?;
    term.draw(f)?;
    queue!(term.backend_mut(), EndSynchronizedUpdate)?;
    term.backend_mut().flush()
}

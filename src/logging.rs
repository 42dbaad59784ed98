//! opsdeck's logger: the one gate for log text. Every record — ours and our
//! dependencies' (HTTP clients, SDKs) — has held secrets scrubbed and is made safe
//! to draw (one line, no control characters or escape sequences) before it reaches
//! the Logs pane or the log file. Log text often carries remote words (error
//! bodies, alert titles), so it gets the same treatment as any other remote text.

use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use log::{LevelFilter, Log, Metadata, Record};

/// A record longer than this is cut: one runaway body must not flood the pane.
const MAX_RECORD_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a logger is already installed")]
    AlreadyInstalled,
    #[error("starting the log thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// What to log and where. The Logs pane always gets the records; a file only when
/// asked (`--log-file`), for a trace of a session to read afterwards.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub level: LevelFilter,
    pub file: Option<PathBuf>,
}

struct Gate {
    level: LevelFilter,
    file: Option<Mutex<LineWriter<File>>>,
}

/// Log text as it may be shown and stored: secrets scrubbed, safe to draw, bounded.
pub fn clean(text: &str) -> String {
    let redacted = crate::credentials::redact(text);
    let safe = crate::ui::sanitize(&redacted);
    crate::format::one_line(&safe, MAX_RECORD_CHARS)
}

impl Log for Gate {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = clean(&record.args().to_string());
        let target = clean(record.target());
        if let Some(file) = &self.file
            && let Ok(mut f) = file.lock()
        {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
            // A full disk must not take the console down with it: the line is lost.
            let _ = writeln!(f, "{now} {:<5} {target}: {text}", record.level());
        }
        tui_logger::Drain::new().log(
            &Record::builder()
                .args(format_args!("{text}"))
                .level(record.level())
                .target(&target)
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        if let Some(file) = &self.file
            && let Ok(mut f) = file.lock()
        {
            let _ = f.flush();
        }
    }
}

/// Open (append, owner-only) the log file.
fn open(path: &Path) -> Result<File, LogError> {
    let err = |source| LogError::File { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let f = OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(err)?;
    // A file made earlier with looser permissions is tightened too: it may hold
    // hostnames, account ids and error bodies.
    f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(f)
}

/// Install the gate as the process's logger, once, before anything logs.
pub fn init(options: &LogOptions) -> Result<(), LogError> {
    let file = options.file.as_deref().map(open).transpose()?.map(|f| Mutex::new(LineWriter::new(f)));
    let gate = Gate { level: options.level, file };
    log::set_boxed_logger(Box::new(gate)).map_err(|_| LogError::AlreadyInstalled)?;
    log::set_max_level(options.level);
    // The pane shows what the gate let through; the gate already filtered by level.
    tui_logger::set_default_level(options.level);
    // tui-logger collects records in a hot buffer and moves them to the pane's buffer
    // from a thread (its own `init_logger` would install it as the logger instead).
    std::thread::Builder::new()
        .name("log-mover".into())
        .spawn(|| {
            loop {
                std::thread::park_timeout(Duration::from_millis(50));
                tui_logger::move_events();
            }
        })
        .map_err(LogError::Thread)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_scrubbed_flattened_and_bounded() {
        let _held = crate::credentials::Secret::new("logged-s3cret-9a7f");
        let text = clean("401 from server: echoed Bearer logged-s3cret-9a7f\n\u{1b}[2Jfake line\u{202e}");
        assert!(!text.contains("logged-s3cret-9a7f"), "{text}");
        assert!(!text.chars().any(|c| c.is_control() || c == '\u{202e}'), "{text:?}");
        assert!(text.contains("Bearer *** fake line"), "{text}");
        assert_eq!(clean(&"x".repeat(10_000)).chars().count(), MAX_RECORD_CHARS);
    }
}

//! The progress line on stderr for long scans: blobs and bytes read, rate,
//! and an ETA when the total is known (git history).
//! Shown only on a terminal, never with `--quiet` or `--no-progress`; it
//! shows counts only, so it cannot leak a secret.

use std::{
    io::IsTerminal,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scan::progress;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(150);

/// A running progress display; stops and clears its line when dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display if `enabled` and stderr is a terminal.
    pub fn start(enabled: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { stop, thread: None };
        }
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} scanning: {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let (blobs, bytes) = progress::snapshot();
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let done = match progress::total() {
                    // Blobs of a known total, and the time left at the rate so far.
                    Some(total) if blobs > 0 => {
                        let left = total.saturating_sub(blobs) as f64 * secs / blobs as f64;
                        format!(
                            "{blobs}/{total} blobs, ETA {}",
                            HumanDuration(Duration::from_secs_f64(left))
                        )
                    }
                    _ => format!("{blobs} files/blobs"),
                };
                bar.set_message(format!(
                    "{done}, {} ({}/s)",
                    HumanBytes(bytes),
                    HumanBytes((bytes as f64 / secs) as u64)
                ));
                bar.tick();
                thread::sleep(TICK);
            }
            bar.finish_and_clear();
        });
        Progress {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

//! Politeness towards providers: at most `per_host` requests in flight to
//! one host, and requests started no faster than a global rate. A scan that
//! found 300 Slack tokens must not look like an attack on Slack, nor trip
//! its rate limits for the rest of the run.

use std::{
    collections::HashMap,
    sync::{Condvar, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// Per-host concurrency limit plus a global start rate.
#[derive(Debug)]
pub struct Throttle {
    per_host: usize,
    interval: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    in_flight: HashMap<String, usize>,
    next_start: Option<Instant>,
}

/// A request slot: the host's in-flight count drops when it is dropped.
#[derive(Debug)]
pub struct Slot<'a> {
    throttle: &'a Throttle,
    host: String,
}

impl Throttle {
    /// `per_host` requests in flight per host (at least 1), and at most
    /// `per_second` request starts per second across all hosts (0: no limit).
    pub fn new(per_host: usize, per_second: f64) -> Throttle {
        let interval = if per_second > 0.0 {
            Duration::from_secs_f64(1.0 / per_second)
        } else {
            Duration::ZERO
        };
        Throttle {
            per_host: per_host.max(1),
            interval,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// Waits until a request to `host` may start, and holds its slot.
    pub fn acquire(&self, host: &str) -> Slot<'_> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.in_flight.get(host).copied().unwrap_or(0) >= self.per_host {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *state.in_flight.entry(host.to_string()).or_default() += 1;
        // Reserve the next start time under the lock, sleep outside it.
        let now = Instant::now();
        let start = state.next_start.map_or(now, |t| t.max(now));
        state.next_start = Some(start + self.interval);
        drop(state);
        let wait = start.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        Slot {
            throttle: self,
            host: host.to_string(),
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self
            .throttle
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = state.in_flight.get_mut(&self.host) {
            *n = n.saturating_sub(1);
        }
        drop(state);
        self.throttle.freed.notify_all();
    }
}

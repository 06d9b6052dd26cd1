//! indicatif: one line per running build (phase and elapsed time) and an overall bar.
use super::Phase;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} packages  {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bars { multi, overall, running: Mutex::new(HashMap::new()) }
    }

    pub fn total(&self, packages: usize) {
        self.overall.set_length(packages as u64);
    }

    pub fn phase(&self, pkgbase: &str, phase: Phase) {
        let Ok(mut running) = self.running.lock() else { return };
        let bar = running.entry(pkgbase.to_string()).or_insert_with(|| {
            let bar = self.multi.insert_before(&self.overall, ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner:.green} {prefix:.bold} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(pkgbase.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(phase.label());
    }

    pub fn done(&self, pkgbase: &str, line: &str) {
        if let Ok(mut running) = self.running.lock()
            && let Some(bar) = running.remove(pkgbase)
        {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.inc(1);
        self.println(line);
    }

    pub fn println(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    pub fn clear(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

//! Stage timings: where a run's time goes, for `syndup scan --timings` and for profiling.
//!
//! Takes nothing but the clock; gives, for each stage of a detection in the order it ran, the
//! wall time it took and the CPU time the whole process spent meanwhile (every thread, user and
//! system): their ratio is how parallel the stage was, at most the number of threads. The
//! system part of that CPU time and the page faults the process took meanwhile are kept too:
//! on virtual machines, the kernel's zeroing of freshly touched pages can be a quarter of a
//! run's CPU time, and these show which stage pays it. The peak resident memory at each
//! stage's end shows which stage set the process's peak.
//! [`crate::Detector::detect`] and [`crate::Detector::detect_spilled`] keep them in
//! [`crate::Detection::stages`]. They measure and never decide: a detection's pairs, clusters
//! and counters do not depend on them, and no report written to standard output holds them.
//!
//! ```
//! use syndup::timing::Clock;
//! let mut clock = Clock::start();
//! let words: usize = (0..100_000).map(|i: u64| (i * i % 7) as usize).sum();
//! clock.lap("count");
//! let stages = clock.finish();
//! assert_eq!(stages.len(), 1);
//! assert_eq!(stages[0].stage, "count");
//! assert!(stages[0].wall >= 0.0 && stages[0].cpu >= 0.0 && words > 0);
//! ```

use std::time::Instant;

/// One stage's times, in seconds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StageTime {
    /// What the stage does, in a few words.
    pub stage: &'static str,
    /// Wall time from the end of the stage before (or the clock's start) to this one's end.
    pub wall: f64,
    /// CPU time of the whole process over the same interval (all threads, user and system).
    pub cpu: f64,
    /// The system (kernel) part of `cpu`. The kernel splits a thread's time between user and
    /// system by sampling at clock ticks, so for a stage of a few milliseconds this is rough.
    pub system: f64,
    /// Minor page faults the process took over the same interval, those that read nothing
    /// from disk (mostly fresh pages of memory, zeroed by the kernel, and pages of the page
    /// cache). Major faults, which read from disk, are not counted.
    pub faults: u64,
    /// The process's peak resident memory so far, at the stage's end, in bytes: where it
    /// grows is the stage that set the peak.
    pub peak: u64,
}

/// Measures consecutive stages: each [`Clock::lap`] ends one.
#[derive(Debug)]
pub struct Clock {
    last_wall: Instant,
    last: Usage,
    stages: Vec<StageTime>,
}

impl Clock {
    /// A clock whose first stage starts now.
    pub fn start() -> Clock {
        Clock {
            last_wall: Instant::now(),
            last: Usage::now(),
            stages: Vec::new(),
        }
    }

    /// Ends the current stage, named `stage`; the next one starts.
    pub fn lap(&mut self, stage: &'static str) {
        let (wall, now) = (Instant::now(), Usage::now());
        self.stages.push(StageTime {
            stage,
            wall: wall.duration_since(self.last_wall).as_secs_f64(),
            cpu: (now.cpu() - self.last.cpu()).max(0.0),
            system: (now.system - self.last.system).max(0.0),
            faults: now.faults.saturating_sub(self.last.faults),
            peak: now.peak,
        });
        (self.last_wall, self.last) = (wall, now);
    }

    /// The stages ended so far, in order.
    pub fn finish(self) -> Vec<StageTime> {
        self.stages
    }
}

/// The process's resource use so far, from `getrusage` on Unix (all 0 elsewhere): user and
/// system CPU seconds, page faults that read nothing from disk, and the peak resident memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// CPU seconds spent in the program (all threads).
    pub user: f64,
    /// CPU seconds spent in the kernel on the program's behalf (all threads).
    pub system: f64,
    /// Page faults served without reading from disk (`ru_minflt`).
    pub faults: u64,
    /// Peak resident memory so far, in bytes (`ru_maxrss`).
    pub peak: u64,
}

impl Usage {
    /// The process's use so far.
    pub fn now() -> Usage {
        #[cfg(unix)]
        {
            let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
            // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which
            // points at one (zeroed, so initialized even if the call failed and wrote nothing).
            let usage = unsafe {
                libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
                usage.assume_init()
            };
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            Usage {
                user: seconds(usage.ru_utime),
                system: seconds(usage.ru_stime),
                faults: u64::try_from(usage.ru_minflt).unwrap_or(0),
                // Kilobytes on Linux and the BSDs, bytes on macOS.
                peak: u64::try_from(usage.ru_maxrss).unwrap_or(0)
                    * if cfg!(target_os = "macos") { 1 } else { 1024 },
            }
        }
        #[cfg(not(unix))]
        {
            Usage::default()
        }
    }

    /// User and system CPU seconds together.
    pub fn cpu(&self) -> f64 {
        self.user + self.system
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Laps follow one another: their wall times add up to the time since the start, and a
    /// stage that keeps the CPU busy is charged CPU time.
    #[test]
    fn laps_cover_the_time_since_the_start() {
        let started = Instant::now();
        let mut clock = Clock::start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.lap("sleep");
        let busy = Instant::now();
        let mut x = 1u64;
        while busy.elapsed().as_millis() < 60 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        clock.lap("spin");
        let total = started.elapsed().as_secs_f64();
        let stages = clock.finish();
        let names: Vec<&str> = stages.iter().map(|s| s.stage).collect();
        assert_eq!(names, ["sleep", "spin"]);
        assert!(stages[0].wall >= 0.02, "{stages:?}");
        assert!(stages[1].wall >= 0.06, "{stages:?}");
        let sum: f64 = stages.iter().map(|s| s.wall).sum();
        assert!(sum <= total + 1e-9, "{sum} > {total}");
        // Spinning for 60 ms costs CPU time (other tests' threads may add theirs: the time is
        // the process's).
        assert!(stages[1].cpu > 0.01, "{stages:?}");
        assert!(stages[0].cpu >= 0.0, "{stages:?}");
        assert!(
            stages.iter().all(|s| s.system <= s.cpu + 1e-6),
            "{stages:?}"
        );
    }

    /// Touching fresh memory shows as page faults of the stage that touches it.
    #[cfg(target_os = "linux")]
    #[test]
    fn fresh_memory_shows_as_page_faults() {
        let mut clock = Clock::start();
        // 64 MB, written once: 16,384 pages of 4 KB, or 32 of 2 MB where the kernel backs the
        // block with transparent huge pages (always so when they are set to `always`).
        let mut block = vec![0u8; 64 << 20];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&block);
        clock.lap("touch");
        let stages = clock.finish();
        assert!(stages[0].faults >= 16, "{stages:?}");
        // The block is resident, so the peak is at least its size.
        assert!(stages[0].peak >= 64 << 20, "{stages:?}");
    }
}

//! How the C allocator keeps memory, tuned for a console that lives for weeks
//! beside big estates. Measured with scripts/bench-scale (10,000 alerts in an
//! Alertmanager polled every 5 s): glibc's defaults kept 61 MB resident after a
//! minute; the same binary with these settings given in the environment, 34 MB
//! after 30 s. At 10,000 groups + 10,000 alerts, 97 MB became 40 MB.
//!
//! - One arena: by default each thread that allocates (the tokio workers, every
//!   blocking-pool thread that parses an answer) gets an arena of its own, and
//!   each keeps the peak of what was parsed in it.
//! - A fixed mmap threshold: glibc raises it after each big free (up to 32 MB),
//!   after which a poll's large lists come from the arena and stay resident after
//!   they are freed; fixed, they are mapped and handed back when freed.
//!
//! Only for glibc (other C libraries have their own policies); settings given in
//! the environment (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`) win.

/// Apply the settings. Call first thing in `main`, before any thread starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const ARENAS: libc::c_int = 1;
        const MMAP_THRESHOLD: libc::c_int = 256 * 1024;
        let unset = |name: &str| std::env::var_os(name).is_none();
        // SAFETY: mallopt only changes glibc's allocation policy; it is called
        // before any other thread exists, and both values are in glibc's ranges.
        unsafe {
            if unset("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, ARENAS);
            }
            if unset("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
        }
    }
}

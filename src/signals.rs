//! Ctrl-C, SIGTERM and SIGHUP: one handler for the process, set so that a
//! hang-up ignored by `nohup` stays ignored. A leaf: it names no other
//! module.

/// Calls `handler` on Ctrl-C, SIGTERM and SIGHUP instead of ending the
/// process; a SIGHUP the process ignores (under `nohup`) stays ignored.
/// Only one handler can be set in a process: a second call fails.
pub fn on_stop(handler: impl FnMut() + Send + 'static) -> Result<(), ctrlc::Error> {
    let hangup_ignored = ignored(libc::SIGHUP);
    ctrlc::set_handler(handler)?;
    if hangup_ignored {
        // SAFETY: sets the disposition of one signal to "ignore"
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
        }
    }
    Ok(())
}

/// True when `signal` is ignored by this process.
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: reads the current disposition into a zeroed struct, changing nothing
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
    }
}

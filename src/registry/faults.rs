//! Fault injection for tests that need a narrow moment made wide: a pause between storing a
//! publish's blobs and recording its version, the window `gc` must never remove a claimed blob in.
//! Set once at start-up from `serve --fault-publish-pause-ms`. Compiled only with the
//! `fault-injection` cargo feature (which `./test` enables), so release binaries carry no test hook.

use std::sync::OnceLock;
use std::time::Duration;

static PUBLISH_PAUSE: OnceLock<Duration> = OnceLock::new();

/// Turns the pause on for this process (the first setting wins).
pub fn set_publish_pause(pause: Duration) {
    if !pause.is_zero() {
        let _ = PUBLISH_PAUSE.set(pause);
        tracing::warn!(
            ?pause,
            "fault injection: every publish pauses before recording its version"
        );
    }
}

/// Waits out the pause, if one is set.
pub async fn publish_pause() {
    if let Some(pause) = PUBLISH_PAUSE.get() {
        tokio::time::sleep(*pause).await;
    }
}

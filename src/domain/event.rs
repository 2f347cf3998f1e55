use std::fmt;
use std::str::FromStr;

/// What an entry of a version's history records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventAction {
    /// A new version.
    Publish,
    /// Different content replaced the version (a forced publish).
    Replace,
    /// A lifecycle state change.
    State,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event action {0:?}: expected publish, replace or state")]
pub struct EventActionError(pub String);

impl EventAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Publish => "publish",
            EventAction::Replace => "replace",
            EventAction::State => "state",
        }
    }
}

impl FromStr for EventAction {
    type Err = EventActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            EventAction::Publish,
            EventAction::Replace,
            EventAction::State,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| EventActionError(s.to_owned()))
    }
}

impl fmt::Display for EventAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

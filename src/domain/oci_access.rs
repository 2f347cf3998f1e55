//! What a token issued by the OCI token flow may do: the repositories and actions its `scope`
//! parameters asked for (Docker's `repository:<name>:<actions>` and `registry:catalog:*`), as far as
//! the caller's own rights go. A request outside them is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RepositoryName;

/// One thing a request does to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OciAction {
    Pull,
    Push,
    Delete,
}

impl OciAction {
    pub fn as_str(self) -> &'static str {
        match self {
            OciAction::Pull => "pull",
            OciAction::Push => "push",
            OciAction::Delete => "delete",
        }
    }
}

/// The repositories (with their actions) and registry resources a token grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciAccess {
    /// Actions by repository name.
    #[serde(default)]
    pub repositories: BTreeMap<String, Vec<OciAction>>,
    /// `registry:catalog:*`: the repository list.
    #[serde(default)]
    pub catalog: bool,
}

impl OciAccess {
    /// The access the `scope` parameters of a token request ask for. Scopes that name no valid
    /// repository or no known action are ignored, as Docker's token servers ignore them.
    pub fn requested<'a>(scopes: impl IntoIterator<Item = &'a str>) -> OciAccess {
        let mut access = OciAccess::default();
        for scope in scopes {
            // A request may pack several scopes in one parameter, separated by spaces.
            for scope in scope.split(' ').filter(|s| !s.is_empty()) {
                access.add(scope);
            }
        }
        access
    }

    fn add(&mut self, scope: &str) {
        let Some((kind, rest)) = scope.split_once(':') else {
            return;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            return;
        };
        // `repository(plugin)` and the like: the class does not matter here.
        let kind = kind.split('(').next().unwrap_or(kind);
        match kind {
            "registry" if name == "catalog" => {
                self.catalog |= actions.split(',').any(|a| a == "*");
            }
            "repository" if name.parse::<RepositoryName>().is_ok() => {
                let mut wanted: Vec<OciAction> = Vec::new();
                for action in actions.split(',') {
                    match action {
                        "pull" => wanted.push(OciAction::Pull),
                        "push" => wanted.push(OciAction::Push),
                        "delete" => wanted.push(OciAction::Delete),
                        "*" => wanted.extend([OciAction::Pull, OciAction::Push, OciAction::Delete]),
                        _ => {}
                    }
                }
                if wanted.is_empty() {
                    return;
                }
                let entry = self.repositories.entry(name.to_owned()).or_default();
                entry.extend(wanted);
                entry.sort();
                entry.dedup();
            }
            _ => {}
        }
    }

    /// Keeps only what `allowed` says yes to (the caller's own rights).
    pub fn limited(mut self, allowed: impl Fn(OciAction) -> bool) -> OciAccess {
        for actions in self.repositories.values_mut() {
            actions.retain(|action| allowed(*action));
        }
        self.repositories.retain(|_, actions| !actions.is_empty());
        self
    }

    /// Whether any action writes (push or delete).
    pub fn writes(&self) -> bool {
        self.repositories
            .values()
            .flatten()
            .any(|action| *action != OciAction::Pull)
    }

    pub fn allows(&self, repository: &RepositoryName, action: OciAction) -> bool {
        self.repositories
            .get(repository.as_str())
            .is_some_and(|actions| actions.contains(&action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str) -> RepositoryName {
        name.parse().unwrap()
    }

    #[test]
    fn scopes_become_repositories_and_actions() {
        let access = OciAccess::requested([
            "repository:team-a/app:pull,push",
            "repository:team-b:pull registry:catalog:*",
            "repository(plugin):team-c:*",
            "repository:Bad Name:pull",
            "repository:team-d:nonsense",
            "garbage",
        ]);
        assert!(access.allows(&repo("team-a/app"), OciAction::Push));
        assert!(access.allows(&repo("team-a/app"), OciAction::Pull));
        assert!(!access.allows(&repo("team-a/app"), OciAction::Delete));
        assert!(access.allows(&repo("team-b"), OciAction::Pull));
        assert!(!access.allows(&repo("team-b"), OciAction::Push));
        assert!(access.allows(&repo("team-c"), OciAction::Delete));
        assert!(!access.allows(&repo("team-d"), OciAction::Pull));
        assert!(access.catalog);
        assert_eq!(access.repositories.len(), 3);
        assert!(access.writes());
        let read_only = access.limited(|action| action == OciAction::Pull);
        assert!(!read_only.writes());
        assert!(read_only.allows(&repo("team-c"), OciAction::Pull));
        assert!(!read_only.allows(&repo("team-a/app"), OciAction::Push));
    }
}

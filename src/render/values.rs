//! Values resolution steps before macros: the pack's values, then presets (`remove`, then deep-merge
//! `add`, at most one per group), then the caller's values (deep-merged; lists replace).

use serde_json::Value;

use crate::pack::presets::Preset;

/// The leading comment of a values document that names the presets in use.
pub const ENABLED_PRESETS_COMMENT: &str = "# spectrocloud.com/enabled-presets:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValuesError {
    #[error("values: {0}")]
    Unreadable(String),
    #[error("values must be a YAML mapping")]
    NotAMapping,
    #[error("preset {0:?} does not exist in this pack")]
    UnknownPreset(String),
    #[error(
        "presets {first:?} and {second:?} are both in group {group:?}; at most one preset per group applies"
    )]
    SameGroup {
        group: String,
        first: String,
        second: String,
    },
    #[error("preset {preset:?}: its add is not valid YAML: {reason}")]
    BadPresetAdd { preset: String, reason: String },
}

/// Deep-merges `overlay` into `base`: mappings merge key by key, anything else (lists included)
/// replaces.
pub fn deep_merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        deep_merge(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Removes the value at a dotted path; true when something was removed.
pub fn remove_path(values: &mut Value, path: &str) -> bool {
    let mut segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    let Some(last) = segments.pop() else {
        return false;
    };
    let mut current = values;
    for segment in segments {
        match current.get_mut(segment) {
            Some(next) => current = next,
            None => return false,
        }
    }
    current
        .as_object_mut()
        .is_some_and(|map| map.remove(last).is_some())
}

/// The value at a dotted path, if any.
pub fn get_path<'v>(values: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(values, |current, segment| current.get(segment))
}

/// Presets named in the `# spectrocloud.com/enabled-presets: A:b,C:d` comment of a values text.
pub fn presets_from_comment(values_text: &str) -> Vec<String> {
    values_text
        .lines()
        .filter_map(|line| line.trim().strip_prefix(ENABLED_PRESETS_COMMENT))
        .flat_map(|list| list.split(','))
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Finds the presets `requested` names (`Group:name` or a bare `name`), at most one per group.
pub fn select_presets<'p>(
    presets: &'p [Preset],
    requested: &[String],
) -> Result<Vec<&'p Preset>, ValuesError> {
    let mut chosen: Vec<&Preset> = Vec::new();
    for reference in requested {
        let found = presets
            .iter()
            .find(|preset| match reference.split_once(':') {
                Some((group, name)) => preset.group == group && preset.name == name,
                None => preset.name == *reference,
            });
        let preset = found.ok_or_else(|| ValuesError::UnknownPreset(reference.clone()))?;
        if chosen.iter().any(|c| std::ptr::eq(*c, preset)) {
            continue;
        }
        if let Some(other) = chosen
            .iter()
            .find(|c| !preset.group.is_empty() && c.group == preset.group)
        {
            return Err(ValuesError::SameGroup {
                group: preset.group.clone(),
                first: other.name.clone(),
                second: preset.name.clone(),
            });
        }
        chosen.push(preset);
    }
    Ok(chosen)
}

/// Applies presets: every `remove` path, then every `add` document deep-merged.
pub fn apply_presets(values: &mut Value, presets: &[&Preset]) -> Result<(), ValuesError> {
    for preset in presets {
        for path in &preset.remove {
            remove_path(values, path);
        }
    }
    for preset in presets {
        if preset.add.trim().is_empty() {
            continue;
        }
        let add = parse_mapping(&preset.add).map_err(|e| ValuesError::BadPresetAdd {
            preset: preset.name.clone(),
            reason: e.to_string(),
        })?;
        deep_merge(values, add);
    }
    Ok(())
}

/// Parses a values document (YAML 1.1 booleans, like Palette); it must be a mapping or empty.
pub fn parse_mapping(text: &str) -> Result<Value, ValuesError> {
    let mut ignored = Vec::new();
    match crate::pack::yaml::parse(text, "values", &mut ignored) {
        Ok(Value::Null) => Ok(Value::Object(serde_json::Map::new())),
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(ValuesError::NotAMapping),
        Err(e) => Err(ValuesError::Unreadable(match e.line {
            Some(line) => format!("line {line}: {}", e.message),
            None => e.message,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn preset(name: &str, group: &str, remove: &[&str], add: &str) -> Preset {
        Preset {
            name: name.to_owned(),
            display_name: name.to_owned(),
            group: group.to_owned(),
            remove: remove.iter().map(|s| (*s).to_owned()).collect(),
            add: add.to_owned(),
        }
    }

    #[test]
    fn deep_merge_merges_maps_and_replaces_lists() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        deep_merge(
            &mut base,
            json!({"a": {"c": [3], "e": true}, "d": {"nested": 1}}),
        );
        assert_eq!(
            base,
            json!({"a": {"b": 1, "c": [3], "e": true}, "d": {"nested": 1}})
        );
    }

    #[test]
    fn presets_remove_then_add_and_one_per_group() {
        let presets = vec![
            preset(
                "vxlan",
                "Encapsulation",
                &["m.c.mode"],
                "m:\n  c:\n    type: VXLAN\n",
            ),
            preset("ipip", "Encapsulation", &[], "m:\n  c:\n    type: IPIP\n"),
            preset("etcd", "Datastore", &[], "m:\n  c:\n    store: etcd\n"),
        ];
        let chosen =
            select_presets(&presets, &["Encapsulation:vxlan".into(), "etcd".into()]).unwrap();
        let mut values = json!({"m": {"c": {"mode": "Always", "type": "IPIP"}}});
        apply_presets(&mut values, &chosen).unwrap();
        assert_eq!(
            values,
            json!({"m": {"c": {"type": "VXLAN", "store": "etcd"}}})
        );
        assert!(matches!(
            select_presets(&presets, &["vxlan".into(), "ipip".into()]),
            Err(ValuesError::SameGroup { .. })
        ));
        assert!(matches!(
            select_presets(&presets, &["nope".into()]),
            Err(ValuesError::UnknownPreset(_))
        ));
    }

    #[test]
    fn the_enabled_presets_comment_names_presets() {
        let text = "# spectrocloud.com/enabled-presets: Encapsulation:vxlan, Datastore:etcd\nmanifests: {}\n";
        assert_eq!(
            presets_from_comment(text),
            ["Encapsulation:vxlan", "Datastore:etcd"]
        );
        assert!(presets_from_comment("a: 1").is_empty());
    }

    #[test]
    fn caller_values_must_be_a_mapping() {
        assert_eq!(parse_mapping("").unwrap(), json!({}));
        assert_eq!(parse_mapping("- a").unwrap_err(), ValuesError::NotAMapping);
        assert!(matches!(
            parse_mapping("a: [").unwrap_err(),
            ValuesError::Unreadable(_)
        ));
    }
}

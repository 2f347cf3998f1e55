//! Conversions between values as packyard stores them (JSON-shaped) and the template engine's values.

use serde_json::Value as Json;

use super::gotemplate::value::{self, Numbers};
use super::gotemplate::{Limit, Value};

/// A JSON-shaped value as manifest template data. Integers stay integers (see README: Helm would
/// print `1000000` as `1e+06` because it routes values through JSON floats; packyard's manifest
/// packs do not).
pub fn to_template(json: &Json) -> Value {
    value::from_json(json, Numbers::Integers)
}

/// A template value back as JSON (trusted values: no budget but nesting).
pub fn to_json(value: &Value) -> Result<Json, Limit> {
    value::to_json(value, &super::gotemplate::Budget::unlimited(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_json_shapes() {
        let json = serde_json::json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}});
        assert_eq!(to_json(&to_template(&json)).unwrap(), json);
    }
}

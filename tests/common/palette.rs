//! Validation of responses against Palette's own API models (`palette-api/packs-api.json` in the
//! reference data; the validation is skipped, saying so, when it is absent).

use std::sync::OnceLock;

fn definitions() -> Option<&'static serde_json::Value> {
    static SPEC: OnceLock<Option<serde_json::Value>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = super::reference::path("palette-api/packs-api.json")?;
        let text = std::fs::read_to_string(path).expect("read packs-api.json");
        let spec: serde_json::Value = serde_json::from_str(&text).expect("parse packs-api.json");
        Some(spec["definitions"].clone())
    })
    .as_ref()
}

/// Asserts that `instance` is valid against the named Swagger definition (JSON Schema draft 4).
pub fn assert_valid(definition: &str, instance: &serde_json::Value) {
    let Some(definitions) = definitions() else {
        return;
    };
    assert!(
        definitions.get(definition).is_some(),
        "packs-api.json has no definition {definition}"
    );
    let schema = serde_json::json!({
        "definitions": definitions,
        "$ref": format!("#/definitions/{definition}"),
    });
    let validator = jsonschema::draft4::new(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {definition}: {errors:#?}\n{instance:#}"
    );
}

//! Validation of responses against Palette's own API models (tests/fixtures/palette-api).

use std::sync::OnceLock;

fn definitions() -> &'static serde_json::Value {
    static SPEC: OnceLock<serde_json::Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/palette-api/packs-api.json"
        );
        let text = std::fs::read_to_string(path).expect("read packs-api.json");
        let spec: serde_json::Value = serde_json::from_str(&text).expect("parse packs-api.json");
        spec["definitions"].clone()
    })
}

/// Asserts that `instance` is valid against the named Swagger definition (JSON Schema draft 4).
pub fn assert_valid(definition: &str, instance: &serde_json::Value) {
    assert!(
        definitions().get(definition).is_some(),
        "packs-api.json has no definition {definition}"
    );
    let schema = serde_json::json!({
        "definitions": definitions(),
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

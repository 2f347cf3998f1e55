//! YAML reading as Palette reads it.
//!
//! Palette's Go side (and Helm) read YAML 1.1, where unquoted `yes`/`no`/`on`/`off`/`y`/`n` are
//! booleans. packyard does the same, so a value renders as it would in Palette, and reports each such
//! scalar as a lint finding because YAML 1.2 tools read them as strings. Duplicate keys are accepted
//! (the last one wins, as in Helm) and reported.

use serde_json::Value;

use super::lint::Finding;

fn options(duplicates: serde_saphyr::DuplicateKeyPolicy) -> serde_saphyr::Options {
    // Comments are not needed, and buffering them made long comment runs a parse error
    // ("too many buffered comments while looking ahead") where go-yaml reads the file. The budget
    // still bounds hostile input (aliases, anchors, events), with room for the largest real values
    // files.
    serde_saphyr::options! {
        duplicate_keys: duplicates,
        emit_comments: false,
        // go-yaml v2 (Helm's, Palette's) reads `017` as octal 15.
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! {
            max_depth: 200,
            max_nodes: 1_000_000,
            max_events: 4_000_000,
        },
    }
}

/// Where a YAML error happened, as a line number when serde-saphyr knows it.
fn error_line(error: &serde_saphyr::Error) -> Option<u64> {
    error.location().map(|location| location.line())
}

/// A YAML parse failure, named by file and line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct YamlError {
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
}

impl YamlError {
    pub fn into_finding(self, code: &str) -> Finding {
        let mut finding = Finding::error(code, &self.file, self.message);
        finding.line = self.line;
        finding
    }
}

/// Parses one YAML document into a JSON-shaped value (map keys become strings, as in Helm).
/// Findings about duplicate keys and YAML 1.1 booleans are appended to `findings`.
pub fn parse(text: &str, file: &str, findings: &mut Vec<Finding>) -> Result<Value, YamlError> {
    let strict = serde_saphyr::from_str_with_options::<GoYaml>(
        text,
        options(serde_saphyr::DuplicateKeyPolicy::Error),
    );
    let value = match strict {
        Ok(GoYaml(value)) => value,
        Err(error) => match error.without_snippet() {
            serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
                let key = key.clone().unwrap_or_else(|| "a key".to_owned());
                let mut finding = Finding::warning(
                    "duplicate-key",
                    file,
                    format!("{key} appears twice in one mapping; the last one wins"),
                );
                finding.line = error_line(&error);
                findings.push(finding);
                serde_saphyr::from_str_with_options::<GoYaml>(
                    text,
                    options(serde_saphyr::DuplicateKeyPolicy::LastWins),
                )
                .map_err(|e| yaml_error(file, &e))?
                .0
            }
            _ => return Err(yaml_error(file, &error)),
        },
    };
    report_yaml11_booleans(text, file, findings);
    Ok(value)
}

/// A document as go-yaml v2 and sigs.k8s.io/yaml hand it to Helm and Palette: a plain key
/// resolves as a value would and is then printed, so `on:` is the key "true", `0x10:` is "16" and
/// `1e3:` is "1000" (a quoted key stays as written); numbers JSON cannot hold are refused.
struct GoYaml(Value);

impl<'de> serde::Deserialize<'de> for GoYaml {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GoYamlVisitor).map(GoYaml)
    }
}

struct GoYamlVisitor;

impl<'de> serde::de::Visitor<'de> for GoYamlVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| {
                E::custom(format!(
                    "error converting YAML to JSON: json: unsupported value: {}",
                    format_float(v, false)
                ))
            })
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(GoYaml(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(GoKey(key)) = map.next_key()? {
            let GoYaml(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A mapping key, printed as sigs.k8s.io/yaml prints a non-string key.
struct GoKey(String);

impl<'de> serde::Deserialize<'de> for GoKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GoKeyVisitor).map(GoKey)
    }
}

struct GoKeyVisitor;

impl GoKeyVisitor {
    fn unsupported<E: serde::de::Error>(kind: &str, key: &str) -> E {
        E::custom(format!(
            "error converting YAML to JSON: unsupported map key of type: {kind}, key: {key}"
        ))
    }
}

impl<'de> serde::de::Visitor<'de> for GoKeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        if i64::try_from(v).is_ok() {
            Ok(v.to_string())
        } else {
            Err(Self::unsupported("uint64", &format!("{v:#x}")))
        }
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(format_float(v, false))
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<String, E> {
        Err(Self::unsupported("%!s(<nil>)", "<nil>"))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<String, E> {
        Err(Self::unsupported("%!s(<nil>)", "<nil>"))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

fn yaml_error(file: &str, error: &serde_saphyr::Error) -> YamlError {
    YamlError {
        file: file.to_owned(),
        line: error_line(error),
        message: error.without_snippet().to_string(),
    }
}

const YAML11_BOOLEANS: [&str; 6] = ["yes", "no", "on", "off", "y", "n"];

/// Reports plain (unquoted) `key: yes`-style values line by line. A textual scan is enough: the
/// finding is advice, and it must point at the line. Past the per-file bound only a count is kept
/// (a values file of a million `- y` lines must not make a million findings).
fn report_yaml11_booleans(text: &str, file: &str, findings: &mut Vec<Finding>) {
    let mut found = 0usize;
    for (index, line) in text.lines().enumerate() {
        let content = line.split(" #").next().unwrap_or_default().trim_end();
        let scalar = content
            .trim_start()
            .strip_prefix("- ")
            .map(str::trim)
            .or_else(|| content.split_once(": ").map(|(_, value)| value.trim()));
        if let Some(scalar) = scalar
            && YAML11_BOOLEANS
                .iter()
                .any(|word| scalar.eq_ignore_ascii_case(word))
        {
            found += 1;
            if found > super::lint::MAX_PER_CODE_AND_FILE {
                continue;
            }
            findings.push(
                Finding::warning(
                    "yaml11-boolean",
                    file,
                    format!(
                        "unquoted {scalar:?} is read as a boolean (YAML 1.1, as Palette and Helm read it); quote it if a string is meant"
                    ),
                )
                .at_line(index as u64 + 1),
            );
        }
    }
    if found > super::lint::MAX_PER_CODE_AND_FILE {
        findings.push(super::lint::omitted(
            file,
            Some("yaml11-boolean"),
            found - super::lint::MAX_PER_CODE_AND_FILE,
        ));
    }
}

/// Parses one YAML document into `T` (fields `T` does not name are skipped without being built),
/// duplicate keys allowed (the last wins), as Helm reads a document's head.
pub fn parse_as<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options::<T>(
        text,
        options(serde_saphyr::DuplicateKeyPolicy::LastWins),
    )
    .map_err(|e| yaml_error(file, &e))
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, exponent form below 1e-4 or from 1e21
/// for JSON-style output (`json`), from 1e6 otherwise (`%v`, YAML).
pub fn format_float(f: f64, json: bool) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let limit = if json { 21 } else { 6 };
    if exponent < -4 || exponent >= limit {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        // Rust's Display is the shortest round-trip form in positional notation.
        let text = format!("{f}");
        text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
    }
}

/// Serialises a value back to YAML (used for values shown to people and for caller values).
pub fn to_string(value: &Value) -> Result<String, serde_saphyr::ser::Error> {
    serde_saphyr::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_are_booleans_and_reported() {
        let mut findings = Vec::new();
        let value = parse("a: yes\nb: 'yes'\nc: off\n", "values.yaml", &mut findings).unwrap();
        assert_eq!(value["a"], Value::Bool(true));
        assert_eq!(value["b"], Value::String("yes".into()));
        assert_eq!(value["c"], Value::Bool(false));
        let lines: Vec<_> = findings.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![Some(1), Some(3)]);
    }

    #[test]
    fn duplicate_keys_are_accepted_and_reported_with_a_line() {
        let mut findings = Vec::new();
        let value = parse("a: 1\nb: 2\na: 3\n", "values.yaml", &mut findings).unwrap();
        assert_eq!(value["a"], 3);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, "duplicate-key");
        assert_eq!(findings[0].line, Some(3));
    }

    #[test]
    fn long_runs_of_comments_parse_as_go_yaml_reads_them() {
        let mut text = String::from("a:\n");
        for i in 0..500 {
            text.push_str(&format!("  # comment {i}\n"));
        }
        text.push_str("  b: 1\n");
        let mut findings = Vec::new();
        let value = parse(&text, "values.yaml", &mut findings).unwrap();
        assert_eq!(value["a"]["b"], 1);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let mut findings = Vec::new();
        let error = parse("a: 1\nb: [unclosed\n", "values.yaml", &mut findings).unwrap_err();
        assert_eq!(error.file, "values.yaml");
        assert!(error.line.is_some());
    }
}

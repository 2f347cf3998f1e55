//! `schema.yaml`: Palette's value-constraint DSL, parsed into the `v1PackSchema` form plus the
//! structure validation needs.
//!
//! ```yaml
//! manifests.calico.encapsulationMode:
//!   schema: '{{ required | format "${list:[Always,CrossSubnet,Never]}" | hints "IPv4 pool encapsulation mode" }}'
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lint::Finding;

pub const FILE: &str = "schema.yaml";

/// A placeholder type inside a `format` string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotType {
    String,
    Number,
    Boolean,
    Password,
    List,
    Ipv4,
    Version,
    Input,
    Ipv4cidr,
    Ipv6,
    Base64,
    /// A type packyard does not know: accepted (a lint finding), never enforced.
    Unknown(String),
}

impl SlotType {
    fn parse(name: &str) -> SlotType {
        match name {
            "string" => SlotType::String,
            "number" => SlotType::Number,
            "boolean" | "bool" => SlotType::Boolean,
            "password" => SlotType::Password,
            "list" => SlotType::List,
            "ipv4" => SlotType::Ipv4,
            "version" => SlotType::Version,
            "input" => SlotType::Input,
            "ipv4cidr" => SlotType::Ipv4cidr,
            "ipv6" => SlotType::Ipv6,
            "base64" => SlotType::Base64,
            other => SlotType::Unknown(other.to_owned()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            SlotType::String => "string",
            SlotType::Number => "number",
            SlotType::Boolean => "boolean",
            SlotType::Password => "password",
            SlotType::List => "list",
            SlotType::Ipv4 => "ipv4",
            SlotType::Version => "version",
            SlotType::Input => "input",
            SlotType::Ipv4cidr => "ipv4cidr",
            SlotType::Ipv6 => "ipv6",
            SlotType::Base64 => "base64",
            SlotType::Unknown(name) => name,
        }
    }
}

/// One `${type[:/regex/|:[min-max]|:[a,b]]}` placeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    pub kind: SlotType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A `format` string: literal text around placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FormatPart {
    Literal(String),
    Slot(Slot),
}

/// One constrained value path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaField {
    /// The dotted value path (`.$[]` marks array items).
    pub name: String,
    pub required: bool,
    pub readonly: bool,
    pub hints: Vec<String>,
    /// The `format` string as written (empty when there is none).
    pub format: String,
    pub parts: Vec<FormatPart>,
}

impl SchemaField {
    /// The single placeholder when the format is exactly one, such as `${list:[a,b]}`.
    pub fn single_slot(&self) -> Option<&Slot> {
        match self.parts.as_slice() {
            [FormatPart::Slot(slot)] => Some(slot),
            _ => None,
        }
    }

    /// `v1PackSchema.type`: the placeholder's type, `string` for composite formats.
    pub fn type_name(&self) -> &str {
        match (self.single_slot(), self.parts.is_empty()) {
            (Some(slot), _) => slot.kind.name(),
            (None, true) => "",
            (None, false) => "string",
        }
    }

    pub fn regex(&self) -> &str {
        self.single_slot()
            .and_then(|slot| slot.regex.as_deref())
            .unwrap_or_default()
    }

    pub fn list_options(&self) -> &[String] {
        self.single_slot()
            .map(|slot| slot.options.as_slice())
            .unwrap_or_default()
    }

    /// Whether a UI must mask this value and the API never echo it back.
    pub fn is_password(&self) -> bool {
        self.parts.iter().any(|part| {
            matches!(
                part,
                FormatPart::Slot(Slot {
                    kind: SlotType::Password,
                    ..
                })
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Pipe,
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = source.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '|' => {
                chars.next();
                tokens.push(Token::Pipe);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a quoted string is not closed".to_owned()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some(other) => text.push(other),
                            None => return Err("a quoted string is not closed".to_owned()),
                        },
                        Some(other) => text.push(other),
                    }
                }
                tokens.push(Token::Text(text));
            }
            '`' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a raw string is not closed".to_owned()),
                        Some('`') => break,
                        Some(other) => text.push(other),
                    }
                }
                tokens.push(Token::Text(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '|' || c == '"' || c == '`' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// Parses a `format` string into literal and placeholder parts.
pub fn parse_format(format: &str) -> Result<Vec<FormatPart>, String> {
    let mut parts = Vec::new();
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(FormatPart::Literal(rest[..start].to_owned()));
        }
        let body = &rest[start + 2..];
        let name_end = body
            .find([':', '}'])
            .ok_or_else(|| format!("placeholder at {:?} is not closed", &rest[start..]))?;
        let kind = SlotType::parse(body[..name_end].trim());
        let mut slot = Slot {
            kind,
            regex: None,
            range: None,
            options: Vec::new(),
        };
        let after_name = &body[name_end..];
        let consumed = if let Some(argument) = after_name.strip_prefix(":/") {
            // A regex may itself contain '}', so it ends at the first "/}".
            let end = argument
                .find("/}")
                .ok_or("a regex placeholder must end with /}")?;
            let pattern = &argument[..end];
            regex::Regex::new(pattern).map_err(|e| format!("invalid regex /{pattern}/: {e}"))?;
            slot.regex = Some(pattern.to_owned());
            name_end + 2 + end + 2
        } else if let Some(argument) = after_name.strip_prefix(":[") {
            let end = argument
                .find("]}")
                .ok_or("a [..] placeholder argument must end with ]}")?;
            let inside = &argument[..end];
            if slot.kind == SlotType::List {
                slot.options = inside
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
            } else {
                slot.range = Some(parse_range(inside)?);
            }
            name_end + 2 + end + 2
        } else if after_name.starts_with('}') {
            name_end + 1
        } else {
            return Err(format!(
                "placeholder ${{{}...}} must be followed by }}, :/regex/ or :[...]",
                &body[..name_end]
            ));
        };
        parts.push(FormatPart::Slot(slot));
        rest = &body[consumed..];
    }
    if !rest.is_empty() {
        parts.push(FormatPart::Literal(rest.to_owned()));
    }
    Ok(parts)
}

fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("range [{text}] must be [min-max]");
    // The separator is the first '-' that is not a leading minus sign.
    let split = text
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '-')
        .map(|(i, _)| i)
        .ok_or_else(bad)?;
    let low: f64 = text[..split].trim().parse().map_err(|_| bad())?;
    let high: f64 = text[split + 1..].trim().parse().map_err(|_| bad())?;
    if low > high {
        return Err(format!("range [{text}] has min above max"));
    }
    Ok((low, high))
}

/// Parses one `schema:` pipeline into a field, or explains why it cannot be read.
pub fn parse_pipeline(name: &str, source: &str) -> Result<(SchemaField, Vec<String>), String> {
    let inner = source
        .trim()
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
        .ok_or("the schema must be one {{ ... }} pipeline")?;
    let inner = inner.trim_start_matches('-').trim_end_matches('-');
    let tokens = tokenize(inner)?;
    let mut field = SchemaField {
        name: name.to_owned(),
        required: false,
        readonly: false,
        hints: Vec::new(),
        format: String::new(),
        parts: Vec::new(),
    };
    let mut notes = Vec::new();
    for command in tokens.split(|t| *t == Token::Pipe) {
        let Some((Token::Word(directive), args)) = command.split_first() else {
            return Err("each directive must start with a name".to_owned());
        };
        let texts: Vec<&str> = args
            .iter()
            .filter_map(|a| match a {
                Token::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        match directive.as_str() {
            "required" => field.required = true,
            "readonly" => field.readonly = true,
            "hints" => field.hints.extend(texts.iter().map(|t| (*t).to_owned())),
            "format" => {
                let [format] = texts.as_slice() else {
                    return Err("format takes exactly one quoted string".to_owned());
                };
                field.parts = parse_format(format)?;
                field.format = (*format).to_owned();
            }
            other => notes.push(format!("unknown directive {other:?} is ignored")),
        }
    }
    for part in &field.parts {
        if let FormatPart::Slot(Slot {
            kind: SlotType::Unknown(kind),
            ..
        }) = part
        {
            notes.push(format!(
                "format type ${{{kind}}} is not one packyard knows; it is not enforced"
            ));
        }
    }
    Ok((field, notes))
}

/// Reads schema.yaml (already parsed as YAML). Fields that cannot be read become findings.
pub fn read(document: &Value, findings: &mut Vec<Finding>) -> Vec<SchemaField> {
    let Some(entries) = document.as_object() else {
        if !document.is_null() {
            findings.push(Finding::error(
                "schema-invalid",
                FILE,
                "schema.yaml must be a mapping of value paths to {schema: ...}",
            ));
        }
        return Vec::new();
    };
    let mut fields = Vec::new();
    for (name, entry) in entries {
        let Some(source) = entry.get("schema").and_then(Value::as_str) else {
            findings.push(
                Finding::error(
                    "schema-invalid",
                    FILE,
                    "expected a mapping with a schema: string",
                )
                .at_field(name.clone()),
            );
            continue;
        };
        match parse_pipeline(name, source) {
            Ok((field, notes)) => {
                for note in notes {
                    findings.push(
                        Finding::warning("schema-unknown", FILE, note).at_field(name.clone()),
                    );
                }
                fields.push(field);
            }
            Err(reason) => {
                findings.push(Finding::error("schema-invalid", FILE, reason).at_field(name.clone()))
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_list_field_into_the_palette_form() {
        let (field, notes) = parse_pipeline(
            "manifests.calico.encapsulationMode",
            r#"{{ required | format "${list:[Always,CrossSubnet,Never]}" | hints "IPv4 pool encapsulation mode" }}"#,
        )
        .unwrap();
        assert!(notes.is_empty());
        assert!(field.required && !field.readonly);
        assert_eq!(field.type_name(), "list");
        assert_eq!(field.list_options(), ["Always", "CrossSubnet", "Never"]);
        assert_eq!(field.hints, ["IPv4 pool encapsulation mode"]);
        assert_eq!(field.format, "${list:[Always,CrossSubnet,Never]}");
    }

    #[test]
    fn parses_regexes_ranges_and_composites() {
        let (field, _) = parse_pipeline("a", r#"{{ format "${string:/^[a-z]{2,3}$/}" }}"#).unwrap();
        assert_eq!(field.regex(), "^[a-z]{2,3}$");
        let (field, _) =
            parse_pipeline("b", r#"{{ readonly | format "${number:[-1-65535]}" }}"#).unwrap();
        assert!(field.readonly);
        assert_eq!(field.single_slot().unwrap().range, Some((-1.0, 65535.0)));
        let (field, _) =
            parse_pipeline("c", r#"{{ format "${ipv4} - ${ipv4}" | hints "a" "b" }}"#).unwrap();
        assert_eq!(field.type_name(), "string");
        assert_eq!(field.parts.len(), 3);
        assert_eq!(field.hints, ["a", "b"]);
        let (field, notes) = parse_pipeline("d", r#"{{ format "${input}" }}"#).unwrap();
        assert_eq!(field.type_name(), "input");
        assert!(notes.is_empty());
        let (_, notes) = parse_pipeline("e", r#"{{ format "${colour}" }}"#).unwrap();
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn explains_what_it_cannot_read() {
        for bad in [
            "required",
            r#"{{ format "${string" }}"#,
            r#"{{ format "${string:/(/}" }}"#,
            r#"{{ format "${number:[9-1]}" }}"#,
            r#"{{ hints "unterminated }}"#,
            r#"{{ format "a" "b" }}"#,
        ] {
            assert!(parse_pipeline("x", bad).is_err(), "{bad}");
        }
    }
}

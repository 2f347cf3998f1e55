//! Rendered output: YAML documents with their source, as one YAML stream or a Kubernetes `v1 List`.

use serde_json::{Value, json};

/// One rendered YAML document and where it came from (`cni-calico@3.24.6/manifests/calico.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub source: String,
    pub text: String,
}

/// Whether a document holds anything but blank lines and comments.
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#')
    })
}

/// Splits rendered text on `---` lines into documents, dropping empty ones.
pub fn split_documents(source: &str, text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        if has_content(current) {
            documents.push(Document {
                source: source.to_owned(),
                text: current.trim_matches('\n').to_owned(),
            });
        }
        current.clear();
    };
    for line in text.lines() {
        let is_separator = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        if is_separator {
            flush(&mut current);
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current);
    documents
}

/// One YAML stream, each document preceded by `---` and a `# Source:` comment.
pub fn to_yaml_stream(documents: &[Document]) -> String {
    let mut out = String::new();
    for document in documents {
        out.push_str("---\n# Source: ");
        out.push_str(&document.source);
        out.push('\n');
        out.push_str(&document.text);
        out.push('\n');
    }
    out
}

/// A document that is not valid YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: a rendered document is not valid YAML: {message}")]
pub struct OutputError {
    pub source_name: String,
    pub message: String,
}

/// Parses each document into an object (YAML 1.1 as Kubernetes tooling reads it).
pub fn objects(documents: &[Document]) -> Result<Vec<Value>, OutputError> {
    documents
        .iter()
        .map(|document| {
            let mut ignored = Vec::new();
            crate::pack::yaml::parse(&document.text, &document.source, &mut ignored).map_err(|e| {
                OutputError {
                    source_name: document.source.clone(),
                    message: e.to_string(),
                }
            })
        })
        .filter(|result| !matches!(result, Ok(Value::Null)))
        .collect()
}

/// A Kubernetes `v1 List` of the objects.
pub fn to_list(objects: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "items": objects})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separator_lines_and_drops_empty_documents() {
        let text = "---\n# Source: x\n\n---\na: 1\n--- # next\nb: 2\n---\n";
        let documents = split_documents("p@1/m.yaml", text);
        assert_eq!(
            documents
                .iter()
                .map(|d| d.text.as_str())
                .collect::<Vec<_>>(),
            ["a: 1", "b: 2"]
        );
        assert_eq!(
            to_yaml_stream(&documents),
            "---\n# Source: p@1/m.yaml\na: 1\n---\n# Source: p@1/m.yaml\nb: 2\n"
        );
        let list = to_list(objects(&documents).unwrap());
        assert_eq!(list["items"][1]["b"], 2);
    }
}

//! Rendered output: YAML documents with their source, as one YAML stream or a Kubernetes `v1 List`.

use serde_json::{Value, json};

/// One rendered YAML document and where it came from (`cni-calico@3.24.6/manifests/calico.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub source: String,
    pub text: String,
}

/// Whether a document holds anything but blank lines and comments.
pub fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#')
    })
}

/// Splits rendered text on `---` lines into documents, dropping empty ones. Each document is one
/// slice of the text (no line-by-line copying).
pub fn split_documents(source: &str, text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut push = |start: usize, end: usize| {
        let body = text[start..end].trim_matches('\n');
        if has_content(body) {
            documents.push(Document {
                source: source.to_owned(),
                text: body.to_owned(),
            });
        }
    };
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        if content == "---" || content.starts_with("--- ") || content.starts_with("---\t") {
            push(start, offset);
            start = offset + line.len();
        }
        offset += line.len();
    }
    push(start, text.len());
    documents
}

/// The documents of a `helm template` stream, cut so that [`to_yaml_stream`] gives the stream
/// back byte for byte.
pub fn from_helm_stream(stream: &str) -> Vec<Document> {
    const HEADER: &str = "---\n# Source: ";
    if stream.trim().is_empty() {
        return Vec::new();
    }
    let mut starts: Vec<usize> = stream
        .match_indices(HEADER)
        .map(|(i, _)| i)
        .filter(|i| *i == 0 || stream.as_bytes()[i - 1] == b'\n')
        .collect();
    starts.push(stream.len());
    starts
        .windows(2)
        .map(|pair| {
            let chunk = &stream[pair[0] + HEADER.len()..pair[1]];
            let (source, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
            Document {
                source: source.to_owned(),
                text: body.strip_suffix('\n').unwrap_or(body).to_owned(),
            }
        })
        .collect()
}

/// One YAML stream, each document preceded by `---` and a `# Source:` comment.
pub fn to_yaml_stream(documents: &[Document]) -> String {
    let size: usize = documents
        .iter()
        .map(|d| d.text.len() + d.source.len() + 16)
        .sum();
    let mut out = String::with_capacity(size);
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
        let helm = "---\n# Source: c/templates/a.yaml\na: 1\n\n---\n# Source: c/templates/b.yaml\n# only a comment\n";
        assert_eq!(to_yaml_stream(&from_helm_stream(helm)), helm);
        assert_eq!(objects(&from_helm_stream(helm)).unwrap().len(), 1);
        assert_eq!(list["items"][1]["b"], 2);
    }
}

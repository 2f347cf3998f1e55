//! The functions a manifest template may call: Go's text/template builtins plus the Sprig
//! functions packyard implements (TEMPLATES.md).

/// Go's builtins, as provided by the gotmpl engine.
pub const GO_BUILTINS: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// The Sprig and Helm functions packyard implements.
pub const SPRIG: &[&str] = &[
    "b64dec",
    "b64enc",
    "coalesce",
    "contains",
    "default",
    "dict",
    "empty",
    "fail",
    "fromYaml",
    "hasKey",
    "hasPrefix",
    "hasSuffix",
    "indent",
    "int",
    "join",
    "keys",
    "list",
    "lower",
    "nindent",
    "quote",
    "replace",
    "required",
    "semverCompare",
    "split",
    "squote",
    "substr",
    "ternary",
    "title",
    "toJson",
    "toString",
    "toYaml",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "upper",
];

/// Whether a template may call `name`.
pub fn is_known(name: &str) -> bool {
    GO_BUILTINS.contains(&name) || SPRIG.contains(&name)
}

//! Golden tests pinning the template semantics of TEMPLATES.md (Go text/template with Helm's
//! conventions), through the same engine the renderer uses.

use packyard::render::data::to_template;
use packyard::render::engine::{TemplateFailure, compile};
use serde_json::json;

fn values() -> serde_json::Value {
    json!({
        "Values": {
            "name": "calico",
            "port": 8080,
            "enabled": true,
            "off": false,
            "zero": 0,
            "empty": "",
            "list": ["a", "b"],
            "emptyList": [],
            "map": {"b": 2, "a": 1, "c": {"d": "x"}},
            "emptyMap": {},
            "html": "<a&b>",
            "quoted": "say \"hi\"\n",
            "version": "v1.29.4",
            "multi": "line one\nline two",
            "big": 1000000
        }
    })
}

fn render(source: &str) -> String {
    render_with(source, false).unwrap_or_else(|e| panic!("{source:?}: {e}"))
}

fn render_with(source: &str, strict: bool) -> Result<String, TemplateFailure> {
    compile(source, strict)?.execute(&to_template(&values()))
}

#[test]
fn missing_keys_render_empty_but_fields_of_missing_values_are_errors() {
    assert_eq!(render("a{{ .Values.missing }}b"), "ab");
    assert_eq!(
        render("{{ if .Values.missing }}yes{{ else }}no{{ end }}"),
        "no"
    );
    let deeper = render_with("{{ .Values.missing.deeper }}", false).unwrap_err();
    assert!(
        deeper
            .to_string()
            .contains("nil pointer evaluating interface {}.deeper"),
        "{deeper}"
    );
    let variable = render_with("{{ $v := .Values }}{{ $v.missing.deeper }}", false).unwrap_err();
    assert!(variable.to_string().contains("nil pointer"), "{variable}");
    // Short-circuiting keeps guarded access safe.
    assert_eq!(
        render("{{ if and .Values.missing .Values.missing.deeper }}x{{ end }}ok"),
        "ok"
    );
}

#[test]
fn strict_mode_makes_every_missing_key_an_error() {
    let error = render_with("{{ .Values.missing }}", true).unwrap_err();
    assert!(error.to_string().contains("missing"), "{error}");
    assert_eq!(render_with("{{ .Values.name }}", true).unwrap(), "calico");
}

#[test]
fn quote_follows_helm() {
    assert_eq!(render("{{ .Values.missing | quote }}"), "");
    assert_eq!(render("{{ .Values.port | quote }}"), "\"8080\"");
    assert_eq!(render("{{ .Values.enabled | quote }}"), "\"true\"");
    assert_eq!(render("{{ .Values.quoted | quote }}"), r#""say \"hi\"\n""#);
    assert_eq!(render("{{ quote \"a\" \"b\" }}"), "\"a\" \"b\"");
    assert_eq!(render("{{ .Values.name | squote }}"), "'calico'");
}

#[test]
fn default_treats_every_empty_value_as_empty() {
    for path in ["missing", "empty", "zero", "off", "emptyList", "emptyMap"] {
        assert_eq!(
            render(&format!("{{{{ .Values.{path} | default \"d\" }}}}")),
            "d",
            "{path}"
        );
    }
    assert_eq!(render("{{ .Values.name | default \"d\" }}"), "calico");
    assert_eq!(render("{{ .Values.port | default 1 }}"), "8080");
}

#[test]
fn to_yaml_sorts_keys_and_drops_the_final_newline() {
    assert_eq!(render("{{ toYaml .Values.map }}"), "a: 1\nb: 2\nc:\n  d: x");
    assert_eq!(render("{{ toYaml .Values.list }}"), "- a\n- b");
    assert_eq!(render("{{ toYaml .Values.missing }}"), "null");
    assert_eq!(
        render("x:\n{{ toYaml .Values.map | indent 2 }}"),
        "x:\n  a: 1\n  b: 2\n  c:\n    d: x"
    );
}

#[test]
fn to_json_is_compact_sorted_and_html_safe() {
    assert_eq!(
        render("{{ toJson .Values.map }}"),
        r#"{"a":1,"b":2,"c":{"d":"x"}}"#
    );
    assert_eq!(
        render("{{ toJson .Values.html }}"),
        r#""\u003ca\u0026b\u003e""#
    );
    assert_eq!(render("{{ toJson .Values.missing }}"), "null");
}

#[test]
fn indent_pads_every_line_and_nindent_starts_a_new_one() {
    assert_eq!(
        render("{{ .Values.multi | indent 4 }}"),
        "    line one\n    line two"
    );
    assert_eq!(
        render("a:{{ .Values.multi | nindent 2 }}"),
        "a:\n  line one\n  line two"
    );
}

#[test]
fn semver_compare_and_substr() {
    assert_eq!(
        render("{{ semverCompare \"~1.29.0\" .Values.version }}"),
        "true"
    );
    assert_eq!(
        render("{{ semverCompare \">=1.30.0\" .Values.version }}"),
        "false"
    );
    assert_eq!(render("{{ substr 0 4 \"1.29.4\" }}"), "1.29");
}

#[test]
fn range_over_maps_is_sorted_and_empty_ranges_take_else() {
    assert_eq!(
        render("{{ range $k, $v := .Values.map }}{{ $k }},{{ end }}"),
        "a,b,c,"
    );
    assert_eq!(
        render("{{ range .Values.emptyList }}x{{ else }}none{{ end }}"),
        "none"
    );
    assert_eq!(
        render("{{ range .Values.missing }}x{{ else }}none{{ end }}"),
        "none"
    );
    assert_eq!(
        render("{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }} {{ end }}"),
        "0=a 1=b "
    );
}

#[test]
fn go_output_rules() {
    assert_eq!(render("{{ .Values.list }}"), "[a b]");
    assert_eq!(render("{{ .Values.map.c }}"), "map[d:x]");
    assert_eq!(
        render("{{ .Values.big }}"),
        "1000000",
        "integers print as integers (documented)"
    );
    let mixed = render_with("{{ if eq .Values.port 8080.0 }}x{{ end }}", false).unwrap_err();
    assert!(mixed.to_string().contains("incompatible types"), "{mixed}");
    assert_eq!(render("{{ or .Values.missing \"fallback\" }}"), "fallback");
}

#[test]
fn fail_and_required_carry_the_packs_message() {
    assert_eq!(
        render_with("{{ fail \"Azure cannot use IP-in-IP\" }}", false).unwrap_err(),
        TemplateFailure::Fail("Azure cannot use IP-in-IP".to_owned())
    );
    assert_eq!(
        render_with("{{ required \"name is required\" .Values.missing }}", false).unwrap_err(),
        TemplateFailure::Fail("name is required".to_owned())
    );
    assert_eq!(render("{{ required \"x\" .Values.name }}"), "calico");
}

#[test]
fn the_remaining_sprig_functions() {
    assert_eq!(
        render("{{ .Values.name | upper }} {{ \"ABC\" | lower }} {{ \"hello world\" | title }}"),
        "CALICO abc Hello World"
    );
    assert_eq!(
        render(
            "{{ trim \"  x \" }}|{{ trimPrefix \"v\" .Values.version }}|{{ trimSuffix \".4\" .Values.version }}"
        ),
        "x|1.29.4|v1.29"
    );
    assert_eq!(
        render(
            "{{ replace \"a\" \"o\" \"banana\" }} {{ contains \"ali\" .Values.name }} {{ hasPrefix \"cal\" .Values.name }} {{ hasSuffix \"co\" .Values.name }}"
        ),
        "bonono true true true"
    );
    assert_eq!(
        render("{{ $p := split \".\" \"1.29.4\" }}{{ $p._0 }}-{{ $p._1 }}"),
        "1-29"
    );
    assert_eq!(
        render(
            "{{ join \",\" .Values.list }} {{ list 1 2 | toJson }} {{ dict \"k\" \"v\" | toJson }}"
        ),
        "a,b [1,2] {\"k\":\"v\"}"
    );
    assert_eq!(
        render(
            "{{ hasKey .Values.map \"a\" }} {{ hasKey .Values.map \"z\" }} {{ keys .Values.map | toJson }}"
        ),
        "true false [\"a\",\"b\",\"c\"]"
    );
    assert_eq!(
        render("{{ b64enc \"calico\" }} {{ b64dec \"Y2FsaWNv\" }}"),
        "Y2FsaWNv calico"
    );
    assert_eq!(
        render(
            "{{ int \"42\" }} {{ toString 7 }} {{ ternary \"y\" \"n\" true }} {{ coalesce .Values.missing .Values.empty \"c\" }}"
        ),
        "42 7 y c"
    );
    assert_eq!(
        render(
            "{{ empty .Values.emptyMap }} {{ printf \"%s-%d\" .Values.name 3 }} {{ not false }}"
        ),
        "true calico-3 true"
    );
    assert_eq!(
        render("{{ $m := fromYaml \"a: 1\\nb: [x]\" }}{{ $m.a }} {{ index $m.b 0 }}"),
        "1 x"
    );
}

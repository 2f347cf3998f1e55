//! Palette's `filters` and `orderBy` query languages. A filter is terms joined by `AND` and `OR`
//! (`AND` binds tighter), each `<field path><operator><value>`: operators `=`, `!=`, `>`, `>=`,
//! `<`, `<=`, and `_in_` with a comma-separated list. `orderBy` is `<field>=1|-1,...`.
//!
//! Terms are written without spaces (`spec.name=cni-calicoANDspec.version>3.24.0`), so a term
//! ends only where `AND` or `OR` is directly followed by another field path: a value such as
//! `ORACLE` stays whole.

use crate::domain::{PackState, Version};
use crate::registry::catalog::{Column, Order, Term, VersionSort};

use super::ApiError;

/// The longest filter or orderBy text read (a bound on work per request).
const MAX_TEXT: usize = 4096;
/// The most terms one filter may have.
const MAX_TERMS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
}

impl Operator {
    fn symbol(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::In => "_in_",
        }
    }

    fn order(self) -> Option<Order> {
        match self {
            Operator::Gt => Some(Order::Greater),
            Operator::Ge => Some(Order::GreaterOrEqual),
            Operator::Lt => Some(Order::Less),
            Operator::Le => Some(Order::LessOrEqual),
            Operator::Eq | Operator::Ne | Operator::In => None,
        }
    }
}

/// One term as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTerm {
    pub field: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl RawTerm {
    fn text(&self) -> String {
        format!(
            "{}{}{}",
            self.field,
            self.operator.symbol(),
            self.values.join(",")
        )
    }
}

/// A parsed filter: any group whose terms all hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expression {
    pub groups: Vec<Vec<RawTerm>>,
}

fn invalid(name: &'static str, reason: String) -> ApiError {
    ApiError::InvalidParameter { name, reason }
}

/// Field paths start at one of the roots of Palette's objects.
fn is_path_start(rest: &str) -> bool {
    ["metadata.", "spec.", "status."]
        .iter()
        .any(|root| rest.starts_with(root))
}

/// Splits at `AND`/`OR` followed by a field path: `(connective before, term)` pairs.
fn split_terms(text: &str) -> Vec<(bool, &str)> {
    let mut terms = Vec::new();
    let mut start = 0;
    let mut or_before = false;
    let mut index = 0;
    while index < text.len() {
        let rest = &text[index..];
        let connective = if rest.starts_with("AND") {
            Some((3, false))
        } else if rest.starts_with("OR") {
            Some((2, true))
        } else {
            None
        };
        match connective {
            Some((length, is_or)) if index > start && is_path_start(&rest[length..]) => {
                terms.push((or_before, &text[start..index]));
                or_before = is_or;
                index += length;
                start = index;
            }
            _ => index += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    terms.push((or_before, &text[start..]));
    terms
}

fn parse_term(term: &str) -> Result<RawTerm, ApiError> {
    let term = term.trim();
    let field_length = term
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'.')
        .count();
    let (field, rest) = term.split_at(field_length);
    let operators = [
        ("_in_", Operator::In),
        ("!=", Operator::Ne),
        (">=", Operator::Ge),
        ("<=", Operator::Le),
        ("=", Operator::Eq),
        (">", Operator::Gt),
        ("<", Operator::Lt),
    ];
    let Some((symbol, operator)) = operators
        .into_iter()
        .find(|(symbol, _)| rest.starts_with(symbol))
    else {
        return Err(invalid(
            "filters",
            format!(
                "term {term:?} is not <field><operator><value> (operators: =, !=, >, >=, <, <=, _in_)"
            ),
        ));
    };
    if field.is_empty() {
        return Err(invalid("filters", format!("term {term:?} names no field")));
    }
    let value = rest[symbol.len()..].trim();
    let values: Vec<String> = match operator {
        Operator::In => value.split(',').map(|v| v.trim().to_owned()).collect(),
        _ => vec![value.to_owned()],
    };
    if values.iter().any(String::is_empty) {
        return Err(invalid("filters", format!("term {term:?} has no value")));
    }
    Ok(RawTerm {
        field: field.to_owned(),
        operator,
        values,
    })
}

/// Parses a filter expression; empty text is no filter.
pub fn parse(text: &str) -> Result<Expression, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Expression::default());
    }
    if text.len() > MAX_TEXT {
        return Err(invalid(
            "filters",
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    let pieces = split_terms(text);
    if pieces.len() > MAX_TERMS {
        return Err(invalid("filters", format!("more than {MAX_TERMS} terms")));
    }
    let mut groups: Vec<Vec<RawTerm>> = vec![Vec::new()];
    for (or_before, piece) in pieces {
        if or_before {
            groups.push(Vec::new());
        }
        let term = parse_term(piece)?;
        if let Some(group) = groups.last_mut() {
            group.push(term);
        }
    }
    Ok(Expression { groups })
}

/// The version fields a filter may name, for error messages.
const VERSION_FIELDS: &str = "metadata.uid, metadata.name, spec.name, spec.displayName, spec.version, spec.layer, spec.type, spec.addonType, spec.addonSubType, spec.cloudTypes, spec.registryUid, spec.state, spec.group, spec.digest, spec.source";

fn column(field: &str) -> Option<Column> {
    Some(match field {
        "metadata.uid" => Column::Uid,
        "metadata.name" | "spec.name" => Column::Name,
        "spec.displayName" => Column::DisplayName,
        "spec.layer" => Column::Layer,
        "spec.addonType" => Column::AddonType,
        "spec.addonSubType" => Column::AddonSubType,
        "spec.state" | "status.state" => Column::State,
        "spec.group" => Column::Group,
        "spec.digest" => Column::Digest,
        "spec.source" | "metadata.annotations.source" => Column::Source,
        _ => return None,
    })
}

fn no_order(term: &RawTerm) -> Result<(), ApiError> {
    match term.operator.order() {
        Some(_) => Err(invalid(
            "filters",
            format!(
                "term {:?}: {} compares versions only; {} is compared with =, != or _in_",
                term.text(),
                term.operator.symbol(),
                term.field
            ),
        )),
        None => Ok(()),
    }
}

/// A constant term: does `values` (under the operator) admit `actual`?
fn constant(term: &RawTerm, actual: &str) -> Result<Term, ApiError> {
    no_order(term)?;
    let listed = term.values.iter().any(|v| v == actual);
    Ok(Term::Always(listed != (term.operator == Operator::Ne)))
}

fn version_term(term: &RawTerm) -> Result<Term, ApiError> {
    if let Some(order) = term.operator.order() {
        let version = Version::parse(&term.values[0])
            .map_err(|e| invalid("filters", format!("term {:?}: {e}", term.text())))?;
        return Ok(Term::Version {
            order,
            key: version.order_prefix(),
        });
    }
    Ok(Term::OneOf {
        column: Column::Version,
        values: term.values.clone(),
        negate: term.operator == Operator::Ne,
    })
}

fn check_states(term: &RawTerm) -> Result<(), ApiError> {
    for value in &term.values {
        value
            .parse::<PackState>()
            .map_err(|e| invalid("filters", format!("term {:?}: {e}", term.text())))?;
    }
    Ok(())
}

/// One term of a version filter, as the store tests it. `registry_uid` is this registry's.
fn version_filter_term(term: &RawTerm, registry_uid: &str) -> Result<Term, ApiError> {
    let negate = term.operator == Operator::Ne;
    match term.field.as_str() {
        "spec.version" => version_term(term),
        // Every pack this registry serves is Palette's type "spectro".
        "spec.type" => constant(term, "spectro"),
        "spec.registryUid" => constant(term, registry_uid),
        "spec.cloudTypes" | "spec.cloudType" => {
            no_order(term)?;
            Ok(Term::Clouds {
                values: term.values.clone(),
                negate,
            })
        }
        field => {
            let column = column(field).ok_or_else(|| {
                invalid(
                    "filters",
                    format!("unknown field {field:?}; filters may name {VERSION_FIELDS}"),
                )
            })?;
            no_order(term)?;
            if column == Column::State {
                check_states(term)?;
            }
            Ok(Term::OneOf {
                column,
                values: term.values.clone(),
                negate,
            })
        }
    }
}

/// The expression as store terms for version listings.
pub fn version_terms(
    expression: &Expression,
    registry_uid: &str,
) -> Result<Vec<Vec<Term>>, ApiError> {
    expression
        .groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|term| version_filter_term(term, registry_uid))
                .collect()
        })
        .collect()
}

/// Evaluates the expression against a resource described by `field` (the value of a field path,
/// `None` when the resource has no such field). For resources held in memory (registries).
pub fn matches(
    expression: &Expression,
    field: impl Fn(&str) -> Option<String>,
    known: &str,
) -> Result<bool, ApiError> {
    let mut any = expression.groups.is_empty();
    for group in &expression.groups {
        let mut all = true;
        for term in group {
            no_order(term)?;
            let actual = field(&term.field).ok_or_else(|| {
                invalid(
                    "filters",
                    format!("unknown field {:?}; filters may name {known}", term.field),
                )
            })?;
            let listed = term.values.contains(&actual);
            all &= listed != (term.operator == Operator::Ne);
        }
        any |= all;
    }
    Ok(any)
}

/// Parses `orderBy=<field>=1|-1,...` for version listings: (column, descending) pairs.
pub fn version_order(text: &str) -> Result<Vec<(VersionSort, bool)>, ApiError> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return Err(invalid(
            "orderBy",
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    let mut sort = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (field, direction) = item.split_once('=').ok_or_else(|| {
            invalid(
                "orderBy",
                format!("{item:?} is not <field>=1 or <field>=-1"),
            )
        })?;
        let descending = match direction.trim() {
            "1" => false,
            "-1" => true,
            other => {
                return Err(invalid(
                    "orderBy",
                    format!(
                        "{item:?}: the order is 1 (ascending) or -1 (descending), not {other:?}"
                    ),
                ));
            }
        };
        let column = match field.trim() {
            "metadata.uid" => VersionSort::Uid,
            "metadata.name" | "spec.name" => VersionSort::Name,
            "spec.displayName" => VersionSort::DisplayName,
            "spec.version" => VersionSort::Version,
            "spec.layer" => VersionSort::Layer,
            "spec.addonType" => VersionSort::AddonType,
            "metadata.creationTimestamp" => VersionSort::Created,
            "metadata.lastModifiedTimestamp" => VersionSort::Modified,
            other => {
                return Err(invalid(
                    "orderBy",
                    format!(
                        "unknown field {other:?}; orderBy may name metadata.uid, metadata.name, spec.name, spec.displayName, spec.version, spec.layer, spec.addonType, metadata.creationTimestamp, metadata.lastModifiedTimestamp"
                    ),
                ));
            }
        };
        sort.push((column, descending));
    }
    Ok(sort)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(expression: &Expression) -> Vec<Vec<(String, Operator, Vec<String>)>> {
        expression
            .groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|t| (t.field.clone(), t.operator, t.values.clone()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn splits_and_before_or() {
        let e = parse("spec.name=cni-calicoANDspec.version>3.24.0ORspec.name=kubernetes").unwrap();
        assert_eq!(
            fields(&e),
            vec![
                vec![
                    ("spec.name".into(), Operator::Eq, vec!["cni-calico".into()]),
                    ("spec.version".into(), Operator::Gt, vec!["3.24.0".into()]),
                ],
                vec![("spec.name".into(), Operator::Eq, vec!["kubernetes".into()])],
            ]
        );
    }

    #[test]
    fn values_keep_and_or_not_followed_by_a_field() {
        let e = parse("spec.displayName=ORACLE ANDROIDANDspec.layer=addon").unwrap();
        assert_eq!(e.groups.len(), 1);
        assert_eq!(e.groups[0][0].values, ["ORACLE ANDROID"]);
        let e = parse("spec.cloudTypes_in_aws,allANDspec.version<=3.24.6").unwrap();
        assert_eq!(e.groups[0][0].operator, Operator::In);
        assert_eq!(e.groups[0][0].values, ["aws", "all"]);
        assert_eq!(e.groups[0][1].operator, Operator::Le);
    }

    #[test]
    fn refuses_malformed_terms_and_unknown_fields() {
        for bad in [
            "spec.layer=",
            "spec.layer",
            "=cni",
            "spec.name=aANDspec.version",
            "spec.cloudTypes_in_aws,",
            "spec.version>three",
            "spec.state=gone",
            "spec.colour=red",
            "spec.name>a",
        ] {
            let parsed = parse(bad).and_then(|e| version_terms(&e, "uid"));
            assert!(parsed.is_err(), "{bad}");
        }
    }

    #[test]
    fn orders_parse_both_directions() {
        assert_eq!(
            version_order("spec.version=-1,metadata.name=1").unwrap(),
            [(VersionSort::Version, true), (VersionSort::Name, false)]
        );
        assert!(version_order("spec.version=up").is_err());
        assert!(version_order("spec.colour=1").is_err());
    }
}

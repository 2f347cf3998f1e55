//! Catalog queries with filters built at run time: versions (`GET /v1/packs`) and one row per pack
//! (`POST /v1/packs/search`). Every value is a bound parameter; only fixed column names and
//! operators are written into the SQL text.

use sqlx::{Any, Executor, FromRow, Row};

use super::versions::{VERSION_COLUMNS, VersionRow};
use crate::domain::PackState;

/// SQL text with `$N` placeholders and the values to bind, in order.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

#[derive(Clone)]
enum Arg {
    Text(String),
    Int(i64),
}

impl Sql {
    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    fn bind_list(&mut self, values: &[String]) -> &mut Self {
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.bind(Arg::Text(value.clone()));
        }
        self
    }

    fn query(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(n) => query.bind(*n),
            };
        }
        query
    }
}

/// How a text field is matched (Palette's `v1FilterString`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    Eq(String),
    Ne(String),
    Contains(String),
    BeginsWith(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFilter {
    pub matcher: TextMatch,
    pub ignore_case: bool,
}

/// Matches text portably and with exact case semantics: SQLite's LIKE ignores ASCII case while
/// PostgreSQL's does not, so containment and prefixes are written with REPLACE and SUBSTR instead.
///
/// A column whose values are lowercase by construction (`lowercase`: pack names) is compared
/// as it is, so that its index serves case-insensitive matches too.
fn push_text_filter(sql: &mut Sql, column: &str, lowercase: bool, filter: &TextFilter) {
    let (column, fold): (String, fn(&str) -> String) = match (filter.ignore_case, lowercase) {
        (true, true) => (column.to_owned(), str::to_lowercase),
        (true, false) => (format!("LOWER({column})"), str::to_lowercase),
        (false, _) => (column.to_owned(), str::to_owned),
    };
    match &filter.matcher {
        TextMatch::Eq(value) => {
            sql.push(" AND ")
                .push(&column)
                .push(" = ")
                .bind(Arg::Text(fold(value)));
        }
        TextMatch::Ne(value) => {
            sql.push(" AND ")
                .push(&column)
                .push(" <> ")
                .bind(Arg::Text(fold(value)));
        }
        TextMatch::Contains(value) if value.is_empty() => {}
        TextMatch::Contains(value) => {
            sql.push(" AND REPLACE(")
                .push(&column)
                .push(", ")
                .bind(Arg::Text(fold(value)))
                .push(", '') <> ")
                .push(&column);
        }
        TextMatch::BeginsWith(value) => {
            let value = fold(value);
            let length = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
            sql.push(" AND SUBSTR(")
                .push(&column)
                .push(", 1, CAST(")
                .bind(Arg::Int(length))
                .push(" AS INTEGER)) = ")
                .bind(Arg::Text(value));
        }
    }
}

/// A column that filter terms test. Columns that may be missing read as "" (Palette's clients ask
/// for `addOnType: [""]` to mean "no add-on type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Uid,
    Name,
    DisplayName,
    Version,
    Layer,
    AddonType,
    AddonSubType,
    State,
    Group,
    Digest,
    Source,
}

impl Column {
    fn sql(self) -> &'static str {
        match self {
            Column::Uid => "v.uid",
            Column::Name => "v.pack_name",
            Column::DisplayName => "v.display_name",
            Column::Version => "v.version",
            Column::Layer => "v.layer",
            Column::AddonType => "COALESCE(v.addon_type, '')",
            Column::AddonSubType => "COALESCE(v.addon_sub_type, '')",
            Column::State => "v.state",
            Column::Group => "COALESCE(v.group_name, '')",
            Column::Digest => "v.digest",
            Column::Source => "COALESCE(v.source, '')",
        }
    }
}

/// How a version compares with a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// One test of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Decided without looking at a row (a registry uid, Palette's pack type).
    Always(bool),
    /// The column's value is one of `values` (with `negate`, none of them).
    OneOf {
        column: Column,
        values: Vec<String>,
        negate: bool,
    },
    /// The version lists one of these clouds (with `negate`, none of them), exactly as listed.
    Clouds { values: Vec<String>, negate: bool },
    /// The version compares so with the version whose order prefix is `key`
    /// ([`crate::domain::Version::order_prefix`]): equal versions spelled differently compare equal.
    Version { order: Order, key: String },
}

impl Term {
    fn names_state(&self) -> bool {
        matches!(
            self,
            Term::OneOf {
                column: Column::State,
                ..
            }
        )
    }
}

/// Spelling bytes are ASCII, so every key of a version equal to a prefix lies below this bound.
const ABOVE_SPELLINGS: char = '\u{7f}';

fn push_term(sql: &mut Sql, term: &Term) {
    match term {
        Term::Always(true) => {
            sql.push("1 = 1");
        }
        Term::Always(false) => {
            sql.push("1 = 0");
        }
        Term::OneOf { values, .. } if values.is_empty() => {
            sql.push("1 = 0");
        }
        Term::OneOf {
            column,
            values,
            negate,
        } => {
            sql.push(column.sql())
                .push(if *negate { " NOT IN (" } else { " IN (" })
                .bind_list(values)
                .push(")");
        }
        Term::Clouds { values, negate } => {
            sql.push(if *negate { "NOT EXISTS" } else { "EXISTS" })
                .push(" (SELECT 1 FROM pack_version_clouds c WHERE c.version_uid = v.uid AND c.cloud_type IN (")
                .bind_list(values)
                .push("))");
        }
        Term::Version { order, key } => {
            let (operator, bound) = match order {
                Order::Greater => (" > ", format!("{key}{ABOVE_SPELLINGS}")),
                Order::GreaterOrEqual => (" >= ", key.clone()),
                Order::Less => (" < ", key.clone()),
                Order::LessOrEqual => (" < ", format!("{key}{ABOVE_SPELLINGS}")),
            };
            sql.push("v.version_key")
                .push(operator)
                .bind(Arg::Text(bound));
        }
    }
}

/// Filters shared by both listings; every list is "any of".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub names: Vec<TextFilter>,
    pub display_names: Vec<TextFilter>,
    pub layers: Vec<String>,
    pub addon_types: Vec<String>,
    pub addon_sub_types: Vec<String>,
    pub sources: Vec<String>,
    /// A version matches when it supports any of these clouds (a version listing `all` supports
    /// every cloud).
    pub clouds: Vec<String>,
    pub is_fips: Option<bool>,
    /// Empty means the default: active and deprecated (unless a term names the state).
    pub states: Vec<PackState>,
    /// Text the name or the display name contains, ignoring case (a packyard extension).
    pub text: Option<String>,
    /// Terms that must all hold.
    pub terms: Vec<Term>,
    /// Palette's filter expression: a version matches when every term of one group holds (`OR`
    /// of `AND`s). Empty: no expression.
    pub any_of: Vec<Vec<Term>>,
}

impl Filters {
    fn names_state(&self) -> bool {
        self.terms
            .iter()
            .chain(self.any_of.iter().flatten())
            .any(Term::names_state)
    }
}

fn push_filters(sql: &mut Sql, filters: &Filters) {
    for filter in &filters.names {
        // Pack names are lowercase (`PackName`).
        push_text_filter(sql, "v.pack_name", true, filter);
    }
    for filter in &filters.display_names {
        push_text_filter(sql, "v.display_name", false, filter);
    }
    for (column, values) in [
        (Column::Layer, &filters.layers),
        (Column::AddonType, &filters.addon_types),
        (Column::AddonSubType, &filters.addon_sub_types),
        (Column::Source, &filters.sources),
    ] {
        if !values.is_empty() {
            sql.push(" AND ")
                .push(column.sql())
                .push(" IN (")
                .bind_list(values)
                .push(")");
        }
    }
    if !filters.clouds.is_empty() {
        let mut clouds = filters.clouds.clone();
        clouds.push("all".to_owned());
        sql.push(
            " AND EXISTS (SELECT 1 FROM pack_version_clouds c WHERE c.version_uid = v.uid AND c.cloud_type IN (",
        )
        .bind_list(&clouds)
        .push("))");
    }
    if let Some(text) = filters
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let needle = text.to_lowercase();
        sql.push(" AND (REPLACE(LOWER(v.pack_name), ")
            .bind(Arg::Text(needle.clone()))
            .push(", '') <> LOWER(v.pack_name) OR REPLACE(LOWER(v.display_name), ")
            .bind(Arg::Text(needle))
            .push(", '') <> LOWER(v.display_name))");
    }
    if let Some(fips) = filters.is_fips {
        sql.push(" AND v.is_fips = ")
            .bind(Arg::Int(i64::from(fips)));
    }
    for term in &filters.terms {
        sql.push(" AND ");
        push_term(sql, term);
    }
    if !filters.any_of.is_empty() {
        sql.push(" AND (");
        for (index, group) in filters.any_of.iter().enumerate() {
            if index > 0 {
                sql.push(" OR ");
            }
            sql.push("(1 = 1");
            for term in group {
                sql.push(" AND ");
                push_term(sql, term);
            }
            sql.push(")");
        }
        sql.push(")");
    }
    if !filters.states.is_empty() || !filters.names_state() {
        let states: Vec<String> = if filters.states.is_empty() {
            vec!["active".to_owned(), "deprecated".to_owned()]
        } else {
            filters
                .states
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect()
        };
        sql.push(" AND v.state IN (").bind_list(&states).push(")");
    }
}

/// Keyset position after which a version listing continues.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VersionCursor {
    pub pack_name: String,
    pub version_key: String,
}

impl VersionCursor {
    /// The position just after `row`.
    pub fn after(row: &VersionRow) -> VersionCursor {
        VersionCursor {
            pack_name: row.pack_name.to_string(),
            version_key: row.version_key.clone(),
        }
    }
}

/// A column a version listing may be sorted by (Palette's `orderBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSort {
    Uid,
    Name,
    DisplayName,
    Version,
    Layer,
    AddonType,
    Created,
    Modified,
}

impl VersionSort {
    fn column(self) -> &'static str {
        match self {
            VersionSort::Uid => "v.uid",
            VersionSort::Name => "v.pack_name",
            VersionSort::DisplayName => "v.display_name",
            VersionSort::Version => "v.version_key",
            VersionSort::Layer => "v.layer",
            VersionSort::AddonType => "COALESCE(v.addon_type, '')",
            VersionSort::Created => "v.created_at",
            VersionSort::Modified => "v.updated_at",
        }
    }
}

/// Where a version listing starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// Just after this version, in the default (name, version) order.
    After(&'a VersionCursor),
    /// After skipping this many rows, in any order.
    Offset(u64),
}

/// Versions matching `filters`, sorted by `sort` (descending where true) then by (name, version),
/// from `start`, at most `limit`.
pub async fn list_versions<'e>(
    executor: impl Executor<'e, Database = Any>,
    filters: &Filters,
    sort: &[(VersionSort, bool)],
    start: Start<'_>,
    limit: u32,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    let mut sql = Sql::default();
    sql.push("SELECT ")
        .push(VERSION_COLUMNS)
        .push(" FROM pack_versions v WHERE 1 = 1");
    push_filters(&mut sql, filters);
    if let Start::After(cursor) = start {
        sql.push(" AND (v.pack_name > ")
            .bind(Arg::Text(cursor.pack_name.clone()))
            .push(" OR (v.pack_name = ")
            .bind(Arg::Text(cursor.pack_name.clone()))
            .push(" AND v.version_key > ")
            .bind(Arg::Text(cursor.version_key.clone()))
            .push("))");
    }
    sql.push(" ORDER BY ");
    for (column, descending) in sort {
        sql.push(column.column())
            .push(if *descending { " DESC, " } else { " ASC, " });
    }
    sql.push("v.pack_name, v.version_key LIMIT ")
        .bind(Arg::Int(i64::from(limit)));
    if let Start::Offset(offset) = start {
        sql.push(" OFFSET ")
            .bind(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    }
    let rows = sql.query().fetch_all(executor).await?;
    rows.iter().map(VersionRow::from_row).collect()
}

pub async fn count_versions<'e>(
    executor: impl Executor<'e, Database = Any>,
    filters: &Filters,
) -> Result<u64, sqlx::Error> {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) FROM pack_versions v WHERE 1 = 1");
    push_filters(&mut sql, filters);
    let count: i64 = sql.query().fetch_one(executor).await?.try_get(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// A sortable field of the pack search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Name,
    Type,
    Layer,
    AddonType,
    DisplayName,
}

impl SortField {
    fn column(self) -> Option<&'static str> {
        Some(match self {
            SortField::Name => "v.pack_name",
            // Every pack is Palette's type "spectro": sorting by type changes nothing.
            SortField::Type => return None,
            SortField::Layer => "v.layer",
            SortField::AddonType => "COALESCE(v.addon_type, '')",
            SortField::DisplayName => "v.display_name",
        })
    }
}

/// One row per pack: its latest listed version, if it matches `filters`.
pub async fn search_packs<'e>(
    executor: impl Executor<'e, Database = Any>,
    filters: &Filters,
    sort: &[(SortField, bool)],
    offset: u64,
    limit: u32,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    let mut sql = Sql::default();
    sql.push("SELECT ")
        .push(VERSION_COLUMNS)
        .push(" FROM packs p JOIN pack_versions v ON v.uid = p.latest_uid WHERE 1 = 1");
    push_filters(&mut sql, filters);
    sql.push(" ORDER BY ");
    for (column, descending) in sort.iter().filter_map(|(f, d)| Some((f.column()?, d))) {
        sql.push(column)
            .push(if *descending { " DESC, " } else { " ASC, " });
    }
    sql.push("v.pack_name ASC LIMIT ")
        .bind(Arg::Int(i64::from(limit)))
        .push(" OFFSET ")
        .bind(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    let rows = sql.query().fetch_all(executor).await?;
    rows.iter().map(VersionRow::from_row).collect()
}

pub async fn count_packs<'e>(
    executor: impl Executor<'e, Database = Any>,
    filters: &Filters,
) -> Result<u64, sqlx::Error> {
    let mut sql = Sql::default();
    sql.push(
        "SELECT COUNT(*) FROM packs p JOIN pack_versions v ON v.uid = p.latest_uid WHERE 1 = 1",
    );
    push_filters(&mut sql, filters);
    let count: i64 = sql.query().fetch_one(executor).await?.try_get(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

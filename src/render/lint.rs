//! The checks a publish adds to reading a pack, shared by the registry and `packyard lint`:
//! every templated manifest parsed (a mistake is a finding with its line, not a render error),
//! and every chart loaded as Helm loads it, with findings for what `helm install` would refuse:
//! an archive Helm cannot load, a template that does not parse, a dependency missing from
//! `charts/`, a chart type that is not installable. None refuses the publish.

use super::functions;
use super::gotemplate::parse;
use super::precheck;
use crate::pack::chart::{Chart, load_archive};
use crate::pack::lint::{self, Finding};
use crate::pack::{Asset, AssetRole, Pack};

/// Adds the findings of every manifest and chart of `pack` (bounded as every pack's are).
pub fn check(pack: &mut Pack, assets: &[Asset]) {
    let mut findings = std::mem::take(&mut pack.findings);
    for manifest in pack.manifests.iter().filter(|m| m.templated) {
        for problem in precheck::check(&manifest.text) {
            findings.push(
                Finding::error("template-invalid", &manifest.path, problem.message)
                    .at_line(problem.line),
            );
        }
    }
    for info in &pack.charts {
        let Some(bytes) = assets
            .iter()
            .find(|a| a.role == AssetRole::Chart && a.path == info.path)
            .and_then(|a| a.entry.bytes().ok())
        else {
            continue;
        };
        match load_archive(&bytes) {
            Ok(chart) => check_chart(
                &chart,
                &info.path,
                &chart.metadata.name.clone(),
                &mut findings,
            ),
            Err(e) => findings.push(Finding::error(
                "chart-invalid",
                &info.path,
                format!("Helm cannot load this chart: {e}"),
            )),
        }
    }
    pack.findings = lint::bound(findings);
}

fn check_chart(chart: &Chart, archive: &str, full_path: &str, findings: &mut Vec<Finding>) {
    let chart_type = &chart.metadata.chart_type;
    if full_path == chart.metadata.name
        && !chart_type.is_empty()
        && !chart_type.eq_ignore_ascii_case("application")
    {
        findings.push(Finding::error(
            "chart-not-installable",
            archive,
            format!("{chart_type} charts are not installable (Helm refuses to render them)"),
        ));
    }
    for dependency in &chart.metadata.dependencies {
        if !chart
            .dependencies
            .iter()
            .any(|c| c.name() == dependency.name)
        {
            findings.push(Finding::error(
                "chart-dependency-missing",
                archive,
                format!(
                    "{full_path} depends on {} {}, which is not in its charts/ folder (run `helm dependency build` before packaging)",
                    dependency.name, dependency.version
                ),
            ));
        }
    }
    let funcs = functions::manifest_funcs();
    for template in &chart.templates {
        let name = format!("{full_path}/{}", template.name);
        let text = String::from_utf8_lossy(&template.data);
        if let Err(e) = parse::parse(&name, &text, &|f| funcs.contains(f)) {
            findings.push(
                Finding::error(
                    "chart-template-invalid",
                    &format!("{archive}:{name}"),
                    e.message.clone(),
                )
                .at_line(u64::from(e.line)),
            );
        }
    }
    for sub in &chart.dependencies {
        check_chart(
            sub,
            archive,
            &format!("{full_path}/charts/{}", sub.name()),
            findings,
        );
    }
}

//! The browser catalog in a real headless Chromium against a real server on 127.0.0.1: catalog,
//! filters in the URL, version tabs, per-cloud defaults, rendering for Azure, validation errors,
//! README sanitising, error states, keyboard use, and a console free of errors.

mod common;

use std::time::Duration;

use common::ADMIN_TOKEN;
use common::browser::{Browser, ConsoleEntry};
use common::packs::TestPack;
use common::process::ServerProcess;
use fantoccini::Locator;

/// Console errors other than the network log lines for requests that were meant to fail.
fn unexpected_errors(entries: &[ConsoleEntry], allowed_statuses: &[u16]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.level == "SEVERE")
        .filter(|e| {
            !allowed_statuses.iter().any(|status| {
                e.message
                    .contains(&format!("the server responded with a status of {status}"))
            })
        })
        .map(|e| e.message.clone())
        .collect()
}

async fn publish_hostile_readme(server: &ServerProcess) {
    let pack = TestPack::new("xss-demo", "1.0.0").file(
        "README.md",
        "# XSS demo\n\nsafe text\n\n<script>window.__packyardPwned = 1</script>\n\n<a href=\"javascript:window.__packyardPwned=2\" onclick=\"window.__packyardPwned=3\" id=\"evil\">click</a>\n",
    );
    let response = common::remote::publish(&server.base_url, "", pack.archive())
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

fn card_names_js() -> &'static str {
    "[...document.querySelectorAll('#pack-grid .pack-card')].map(c => c.dataset.pack).join(',')"
}

#[tokio::test]
async fn the_catalog_works_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let packs = concat!(env!("CARGO_MANIFEST_DIR"), "/packs");
    let mut server = ServerProcess::start(
        &dir.path().join("data"),
        common::fresh_database_url().await.as_deref(),
        &["--packs-dir", packs, "--admin-token", ADMIN_TOKEN],
        &dir.path().join("server.log"),
    )
    .await;
    publish_hostile_readme(&server).await;
    // Enough packs for a second page (24 per page).
    for index in 0..25 {
        let pack = TestPack::new(&format!("demo-{index:02}"), "1.0.0");
        let response = common::remote::publish(&server.base_url, "", pack.archive())
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let browser = Browser::start().await;
    let client = &browser.client;

    // The catalog lists the shipped packs, logos loaded.
    client.goto(&server.url("/")).await.unwrap();
    browser.wait_until("document.querySelector('[data-pack=cni-calico]') && document.querySelector('[data-pack=kubernetes]')").await;
    browser
        .wait_until("[...document.querySelectorAll('.pack-card img.logo')].length >= 2 && [...document.querySelectorAll('.pack-card img.logo')].every(i => i.complete && i.naturalWidth > 0)")
        .await;
    let calico_card = browser
        .eval("document.querySelector('[data-pack=cni-calico]').innerText")
        .await;
    let calico_card = calico_card.as_str().unwrap();
    assert!(
        calico_card.contains("Calico")
            && calico_card.contains("latest 3.24.6")
            && calico_card.contains("azure"),
        "{calico_card}"
    );
    // Paging through `continue`: 24 first, the rest after "Load more".
    browser.wait_until("document.querySelectorAll('#pack-grid .pack-card').length === 24 && document.getElementById('result-summary').textContent === '24 of 28 packs'").await;
    client
        .find(Locator::Css(".more button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_until("document.querySelectorAll('#pack-grid .pack-card').length === 28 && !document.querySelector('.more button')").await;
    browser.screenshot(1280, 900, "catalog-desktop", None).await;
    browser.screenshot(390, 844, "catalog-phone", None).await;
    let errors = unexpected_errors(&browser.console().await, &[]);
    assert!(
        errors.is_empty(),
        "console errors on the catalog: {errors:?}"
    );

    // Search narrows the grid, lives in the URL and survives a reload.
    let search = client.find(Locator::Id("search")).await.unwrap();
    search.send_keys("calico").await.unwrap();
    browser
        .wait_until(&format!("{} === 'cni-calico'", card_names_js()))
        .await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/?q=calico")
    );
    client.refresh().await.unwrap();
    browser
        .wait_until(&format!("{} === 'cni-calico'", card_names_js()))
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('search').value")
            .await,
        "calico"
    );
    // Layer and cloud filters, also in the URL.
    client.goto(&server.url("/?layer=k8s")).await.unwrap();
    browser
        .wait_until(&format!("{} === 'kubernetes'", card_names_js()))
        .await;
    assert_eq!(
        browser.eval("document.getElementById('layer').value").await,
        "k8s"
    );
    client
        .find(Locator::Id("cloud"))
        .await
        .unwrap()
        .select_by_value("eks")
        .await
        .unwrap();
    browser
        .wait_until(&format!("{} === 'kubernetes'", card_names_js()))
        .await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/?layer=k8s&cloud=eks")
    );
    // Nothing in the CSI layer: the empty state.
    client
        .find(Locator::Id("layer"))
        .await
        .unwrap()
        .select_by_value("csi")
        .await
        .unwrap();
    browser.wait_until("document.querySelector('#pack-grid .notice') && document.querySelector('#pack-grid').innerText.includes('No packs match')").await;
    client
        .find(Locator::Id("layer"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    client
        .find(Locator::Id("cloud"))
        .await
        .unwrap()
        .select_by_value("azure")
        .await
        .unwrap();
    browser
        .wait_until(&format!(
            "{}.split(',').sort().join(',') === 'cni-calico,kubernetes'",
            card_names_js()
        ))
        .await;

    // The Calico page: tabs by minor line plus Deprecated.
    client.goto(&server.url("/packs/cni-calico")).await.unwrap();
    browser
        .wait_until("document.querySelectorAll('#version-tabs [role=tab]').length === 3")
        .await;
    let tabs = browser.eval("[...document.querySelectorAll('#version-tabs [role=tab]')].map(t => t.textContent).join('|')").await;
    assert_eq!(tabs, "3.24.x|3.23.x|Deprecated");
    let versions_in_panel = "[...document.querySelectorAll('#version-panel [data-version]')].map(b => b.dataset.version).join(',')";
    browser
        .wait_until(&format!("{versions_in_panel} === '3.24.6,3.24.5'"))
        .await;
    client
        .find(Locator::Css("[data-tab=Deprecated]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_until(&format!("{versions_in_panel} === '3.22.5'"))
        .await;
    let deprecated = browser
        .eval("document.querySelector('#version-panel [data-version]').innerText")
        .await;
    assert!(deprecated.as_str().unwrap().contains("deprecated"));
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("versions=Deprecated")
    );
    // Keyboard: from a focused tab, ArrowLeft moves to the previous line.
    client
        .execute(
            "document.querySelector('[data-tab=Deprecated]').focus()",
            vec![],
        )
        .await
        .unwrap();
    client
        .find(Locator::Css("[data-tab=Deprecated]"))
        .await
        .unwrap()
        .send_keys("\u{E012}")
        .await
        .unwrap();
    browser
        .wait_until(&format!(
            "{versions_in_panel} === '3.23.5' && document.activeElement.dataset.tab === '3.23.x'"
        ))
        .await;
    client
        .goto(&server.url("/packs/cni-calico?versions=3.24.x"))
        .await
        .unwrap();
    browser
        .wait_until(&format!("{versions_in_panel} === '3.24.6,3.24.5'"))
        .await;

    // The OCI reference in Palette's layout and the command that pulls it.
    browser
        .wait_until("document.getElementById('oras-pull')")
        .await;
    let host = server.base_url.trim_start_matches("http://").to_owned();
    assert_eq!(
        browser
            .eval("document.getElementById('oras-pull').textContent")
            .await,
        format!("oras pull {host}/spectro-packs/archive/cni-calico:3.24.6").as_str()
    );

    // The parameters table shows the per-cloud default of the encapsulation.
    browser
        .wait_until("document.querySelector('#parameters [data-parameter=encapsulationType]')")
        .await;
    let defaults = browser
        .eval("[...document.querySelectorAll('#parameters [data-parameter=encapsulationType] [data-clouds]')].map(li => li.dataset.clouds + '=' + li.querySelector('code').textContent).join(';')")
        .await;
    let defaults = defaults.as_str().unwrap();
    assert!(
        defaults.contains("azure=CALICO_IPV4POOL_VXLAN"),
        "{defaults}"
    );
    assert!(
        defaults.contains("aws,")
            && defaults.contains("vsphere")
            && defaults.contains("=CALICO_IPV4POOL_IPIP"),
        "{defaults}"
    );

    // Render for Azure: the values pre-fill with VXLAN, the output has VXLAN.
    client
        .find(Locator::Id("render-cloud"))
        .await
        .unwrap()
        .select_by_value("azure")
        .await
        .unwrap();
    browser.wait_until("document.getElementById('values').value.includes('encapsulationType: CALICO_IPV4POOL_VXLAN')").await;
    client
        .find(Locator::Id("render-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_until("document.getElementById('render-output') && document.getElementById('render-output').textContent.includes('CALICO_IPV4POOL_VXLAN')").await;
    let output = browser
        .eval("document.getElementById('render-output').textContent")
        .await;
    assert!(
        output
            .as_str()
            .unwrap()
            .contains("- name: CALICO_IPV4POOL_VXLAN\n              value: \"Always\"")
    );
    let status = browser
        .eval("document.getElementById('render-status').textContent")
        .await;
    assert!(
        status
            .as_str()
            .unwrap()
            .starts_with("27 objects: 17 CustomResourceDefinition"),
        "{status}"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('download-output').getAttribute('download')")
            .await,
        "cni-calico-3.24.6-azure.yaml"
    );
    browser.screenshot(1280, 900, "pack-desktop", None).await;
    browser.screenshot(390, 844, "pack-phone", None).await;
    browser
        .screenshot(1280, 900, "render-desktop", Some("#render-heading"))
        .await;
    browser
        .screenshot(390, 844, "render-phone", Some("#render-heading"))
        .await;
    browser
        .screenshot(390, 844, "parameters-phone", Some("#parameters-heading"))
        .await;
    let errors = unexpected_errors(&browser.console().await, &[]);
    assert!(
        errors.is_empty(),
        "console errors on the pack page: {errors:?}"
    );

    // An invalid CIDR: the error names the value and its line, next to the editor.
    client
        .execute(
            "const v = document.getElementById('values'); v.value = v.value.replace('192.168.0.0/16', '10.0.0.0/99');",
            vec![],
        )
        .await
        .unwrap();
    client
        .find(Locator::Id("render-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_until("document.querySelector('#value-errors [data-path=\"manifests.calico.calicoNetworkCIDR\"]')").await;
    let error_text = browser
        .eval("document.getElementById('value-errors').innerText")
        .await;
    let error_text = error_text.as_str().unwrap();
    assert!(
        error_text.contains("calicoNetworkCIDR")
            && error_text.contains("(line ")
            && error_text.contains("must have the format"),
        "{error_text}"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('values').getAttribute('aria-invalid')")
            .await,
        "true"
    );
    let errors = unexpected_errors(&browser.console().await, &[422]);
    assert!(
        errors.is_empty(),
        "console errors while showing a validation error: {errors:?}"
    );

    // A README with a script: rendered, sanitised, never run.
    client.goto(&server.url("/packs/xss-demo")).await.unwrap();
    browser.wait_until("document.getElementById('readme') && document.getElementById('readme').innerText.includes('safe text')").await;
    client
        .find(Locator::LinkText("click"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        browser.eval("typeof window.__packyardPwned").await,
        "undefined"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#readme script').length")
            .await,
        0
    );
    let errors = unexpected_errors(&browser.console().await, &[]);
    assert!(
        errors.is_empty(),
        "console errors on the hostile README page: {errors:?}"
    );

    // A pack that does not exist: a clear 404 state.
    client
        .goto(&server.url("/packs/no-such-pack"))
        .await
        .unwrap();
    browser.wait_until("document.querySelector('.notice.error') && document.querySelector('.notice.error').innerText.includes('No pack named no-such-pack')").await;
    let errors = unexpected_errors(&browser.console().await, &[404]);
    assert!(
        errors.is_empty(),
        "console errors on the 404 page: {errors:?}"
    );

    // The server goes away: the page says so instead of failing silently.
    client.goto(&server.url("/")).await.unwrap();
    browser
        .wait_until("document.querySelector('[data-pack=cni-calico]')")
        .await;
    server.terminate();
    server.wait(Duration::from_secs(30)).await;
    client
        .find(Locator::Id("layer"))
        .await
        .unwrap()
        .select_by_value("cni")
        .await
        .unwrap();
    browser.wait_until("document.querySelector('#pack-grid .notice.error') && document.querySelector('#pack-grid').innerText.includes('cannot be reached')").await;
    browser.close().await;
}

#[tokio::test]
async fn a_chart_pack_shows_its_charts_and_renders_them_in_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(
        &dir.path().join("data"),
        common::fresh_database_url().await.as_deref(),
        &["--admin-token", ADMIN_TOKEN],
        &dir.path().join("server.log"),
    )
    .await;
    // A chart pack without a README.
    let pack = TestPack::new("demo-app", "1.0.0")
        .without("README.md")
        .without("schema.yaml")
        .file("charts/demo-0.1.0.tgz", common::charts::demo_chart())
        .file(
            "values.yaml",
            "pack:\n  namespace: apps\ncharts:\n  demo:\n    replicas: 3\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n",
        )
        .pack_json(|j| j["charts"] = serde_json::json!(["charts/demo-0.1.0.tgz"]));
    let response = common::remote::publish(&server.base_url, "", pack.archive())
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let browser = Browser::start().await;
    let client = &browser.client;
    client.goto(&server.url("/packs/demo-app")).await.unwrap();
    browser
        .wait_until("document.querySelector('.chart[data-chart=demo]')")
        .await;
    let chart = browser
        .eval("document.querySelector('.chart[data-chart=demo]').innerText")
        .await;
    let chart = chart.as_str().unwrap();
    for expected in [
        "demo 0.1.0",
        "app 1.2.3",
        "A demo chart",
        "sub",
        "when sub.enabled",
        "crds/widget.yaml",
    ] {
        assert!(chart.contains(expected), "{expected:?} is not in {chart}");
    }
    // Its parameters come from values.schema.json, with the chart's defaults.
    assert_eq!(
        browser
            .eval("document.querySelector('.chart-parameters [data-parameter=\"charts.demo.replicas\"] .defaults').innerText")
            .await,
        "1"
    );
    // No README: the page says so and why.
    assert!(
        browser
            .eval("document.getElementById('readme-missing').innerText")
            .await
            .as_str()
            .unwrap()
            .contains("has no README.md")
    );
    // The render panel renders the charts, then the manifest.
    browser
        .wait_until("document.getElementById('values').value.includes('charts:')")
        .await;
    client
        .find(Locator::Id("render-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_until("document.getElementById('render-output') && document.getElementById('render-output').textContent.includes('kind: Deployment')")
        .await;
    let status = browser
        .eval("document.getElementById('render-status').textContent")
        .await;
    assert!(
        status.as_str().unwrap().starts_with("6 objects: "),
        "{status}"
    );
    let output = browser
        .eval("document.getElementById('render-output').textContent")
        .await;
    assert!(
        output
            .as_str()
            .unwrap()
            .contains("# Source: demo/templates/deployment.yaml")
    );
    let errors = unexpected_errors(&browser.console().await, &[]);
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
    server.terminate();
    server.wait(Duration::from_secs(30)).await;
}

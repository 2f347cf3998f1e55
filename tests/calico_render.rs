//! Every Calico version × encapsulation × mode × datastore, on aws, vsphere, azure and gcp: the
//! render equals Project Calico's manifests with exactly the edits CALICO.md lists, compared object
//! by object; Azure with IP-in-IP is refused with a reason.

mod common;

use common::calico::{self, Etcd, IPIP, Settings, VXLAN};
use packyard::render::macros::MacroContext;
use packyard::render::pipeline::{PackRequest, RenderError, Renderer};

const CLOUDS: [&str; 4] = ["aws", "vsphere", "azure", "gcp"];

fn context(cloud: &str) -> MacroContext {
    MacroContext {
        cloud_type: cloud.to_owned(),
        ..MacroContext::default()
    }
}

fn render(
    renderer: &Renderer,
    version: &packyard::render::pipeline::LoadedVersion,
    cloud: &str,
    values: Option<String>,
) -> Result<String, RenderError> {
    let request = PackRequest {
        values,
        presets: Vec::new(),
    };
    let budget = renderer.budget(None);
    let values = renderer.resolve_values(version, &request, &context(cloud), &budget)?;
    let (documents, _) = renderer.render(version, &values, false, &budget)?;
    Ok(packyard::render::output::to_yaml_stream(&documents))
}

#[test]
fn every_combination_equals_upstream_with_the_documented_edits() {
    let Some(_) = common::reference::calico_upstream() else {
        return;
    };
    let renderer = Renderer::new(0);
    let mut rendered = 0;
    for version in calico::VERSIONS {
        let loaded = calico::load(&format!("cni-calico-{version}"));
        for encapsulation_type in [IPIP, VXLAN] {
            for mode in ["Always", "CrossSubnet", "Never"] {
                for etcd in [
                    None,
                    Some(Etcd {
                        endpoints: "https://10.0.0.5:2379",
                        tls: false,
                    }),
                    Some(Etcd {
                        endpoints: "https://10.0.0.5:2379,https://10.0.0.6:2379",
                        tls: true,
                    }),
                ] {
                    let settings = Settings {
                        encapsulation_type,
                        mode,
                        cidr: "10.244.0.0/16",
                        etcd,
                    };
                    let expected = calico::expected(version, &settings).unwrap();
                    for cloud in CLOUDS {
                        let label = format!(
                            "{version} {encapsulation_type} {mode} etcd={:?} {cloud}",
                            settings.etcd
                        );
                        let result =
                            render(&renderer, &loaded, cloud, Some(settings.values_yaml()));
                        if cloud == "azure" && encapsulation_type == IPIP && mode != "Never" {
                            let error = result.expect_err(&label);
                            let message = error.to_string();
                            assert!(
                                matches!(error, RenderError::Failed { .. }),
                                "{label}: {error:?}"
                            );
                            assert!(
                                message.contains("Azure") && message.contains("IP-in-IP"),
                                "{label}: {message}"
                            );
                            continue;
                        }
                        let stream = result.unwrap_or_else(|e| panic!("{label}: {e}"));
                        calico::assert_same_objects(&calico::objects(&stream), &expected, &label);
                        rendered += 1;
                    }
                }
            }
        }
    }
    assert_eq!(rendered, 4 * 2 * 3 * 3 * 4 - 4 * 2 * 3);
}

#[test]
fn vxlan_cross_subnet_is_exactly_upstream_calico_vxlan_yaml() {
    let Some(_) = common::reference::calico_upstream() else {
        return;
    };
    let renderer = Renderer::new(0);
    for version in calico::VERSIONS {
        let loaded = calico::load(&format!("cni-calico-{version}"));
        let values = "manifests:\n  calico:\n    encapsulationType: CALICO_IPV4POOL_VXLAN\n    encapsulationMode: CrossSubnet\n".to_owned();
        let stream = render(&renderer, &loaded, "aws", Some(values)).unwrap();
        let mut expected =
            calico::objects(&calico::upstream_text(version, "calico-vxlan.yaml").unwrap());
        // The one edit: the pool CIDR the pack always sets (default 192.168.0.0/16).
        for object in expected.values_mut() {
            if object["kind"] == "DaemonSet" {
                let env = object["spec"]["template"]["spec"]["containers"][0]["env"]
                    .as_array_mut()
                    .unwrap();
                let at = env
                    .iter()
                    .position(|e| e["name"] == "CALICO_DISABLE_FILE_LOGGING")
                    .unwrap();
                env.insert(
                    at,
                    serde_json::json!({"name": "CALICO_IPV4POOL_CIDR", "value": "192.168.0.0/16"}),
                );
            }
        }
        calico::assert_same_objects(&calico::objects(&stream), &expected, version);
    }
}

#[test]
fn defaults_follow_the_cloud() {
    let Some(_) = common::reference::calico_upstream() else {
        return;
    };
    let renderer = Renderer::new(0);
    let loaded = calico::load("cni-calico-3.24.6");
    for (cloud, encapsulation_type) in [
        ("aws", IPIP),
        ("vsphere", IPIP),
        ("gcp", IPIP),
        ("azure", VXLAN),
    ] {
        let stream = render(&renderer, &loaded, cloud, None).unwrap();
        let settings = Settings {
            encapsulation_type,
            mode: "Always",
            cidr: "192.168.0.0/16",
            etcd: None,
        };
        calico::assert_same_objects(
            &calico::objects(&stream),
            &calico::expected("3.24.6", &settings).unwrap(),
            cloud,
        );
        assert_eq!(calico::objects(&stream).len(), 27, "{cloud}");
    }
}

#[test]
fn etcd_needs_endpoints_and_renders_eleven_objects() {
    let renderer = Renderer::new(0);
    let loaded = calico::load("cni-calico-3.24.6");
    let error = render(
        &renderer,
        &loaded,
        "aws",
        Some("manifests:\n  calico:\n    datastore: etcd\n".into()),
    )
    .unwrap_err();
    assert!(
        matches!(&error, RenderError::Failed { message, .. } if message.contains("etcd.endpoints is required")),
        "{error:?}"
    );
    let stream = render(&renderer, &loaded, "aws", Some("manifests:\n  calico:\n    datastore: etcd\n    etcd:\n      endpoints: http://e:2379\n".into())).unwrap();
    let objects = calico::objects(&stream);
    assert_eq!(objects.len(), 11);
    assert!(objects.keys().all(|k| k.1 != "CustomResourceDefinition"));
}

#[test]
fn unlisted_clouds_are_refused() {
    let renderer = Renderer::new(0);
    let loaded = calico::load("cni-calico-3.24.6");
    let error = packyard::render::pipeline::Renderer::check_cloud(&loaded, "eks").unwrap_err();
    assert!(matches!(error, RenderError::CloudUnsupported { .. }));
    assert!(packyard::render::pipeline::Renderer::check_cloud(&loaded, "azure").is_ok());
    let _ = renderer;
}

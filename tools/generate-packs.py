#!/usr/bin/env python3
"""Builds the packs packyard ships: cni-calico (from Project Calico's manifests, read in place from
$PACKYARD_REFERENCE_DIR/upstream/calico, default ../shared) and a minimal kubernetes pack (layer
k8s, no manifests) for profiles.

Each pack's manifests/calico.yaml is the upstream calico-etcd.yaml (datastore: etcd) and calico.yaml
(datastore: kubernetes) joined by one if/else, with only the lines that carry a parameter templated: a
line diff against upstream shows exactly those lines. Every value a template writes is quoted, so a
value can never add YAML of its own. Run from the repository root:

    python3 tools/generate-packs.py

The logo is drawn here too (nothing is downloaded).
"""
import json
import math
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.environ.get("PACKYARD_REFERENCE_DIR", os.path.join(ROOT, "..", "shared"))
UPSTREAM = os.path.join(REFERENCE, "upstream", "calico")

VERSIONS = {
    # version: (state, kubernetes versions the line supports)
    "3.24.6": ("active", "1.22.0", "1.24"),
    "3.24.5": ("active", "1.22.0", "1.24"),
    "3.23.5": ("active", "1.21.0", "1.23"),
    "3.22.5": ("deprecated", "1.21.0", "1.23"),
}

CLOUDS = ["aws", "azure", "gcp", "vsphere", "openstack", "maas", "baremetal", "libvirt", "edge-native"]

HEADER = """{{- /*
  Calico %(version)s: Project Calico's own install manifests (calico-etcd.yaml and calico.yaml, Apache-2.0),
  with only the lines that carry a parameter templated. Values: manifests.calico in values.yaml.
*/ -}}
{{- $ipip := and (eq .Values.encapsulationType "CALICO_IPV4POOL_IPIP") (ne .Values.encapsulationMode "Never") }}
{{- $vxlan := and (eq .Values.encapsulationType "CALICO_IPV4POOL_VXLAN") (ne .Values.encapsulationMode "Never") }}
{{- if and $ipip (eq .Values.cloudType "azure") }}
{{- fail "Calico cannot use IP-in-IP (encapsulationType CALICO_IPV4POOL_IPIP) on Azure: Azure's network fabric drops IP-in-IP packets. Use encapsulationType CALICO_IPV4POOL_VXLAN, or encapsulationMode Never." }}
{{- end }}
{{- $etcd := .Values.etcd | default dict }}
{{- if eq .Values.datastore "etcd" }}
"""

MIDDLE = "{{- else }}\n"
FOOTER = "{{- end }}\n"


def replace_exactly(lines, old, new, count=1):
    hits = [i for i, line in enumerate(lines) if line == old]
    if len(hits) != count:
        raise SystemExit(f"expected {count} line(s) {old!r}, found {len(hits)}")
    for i in hits:
        lines[i] = new


def replace_value_after(lines, name_line, new_value_line):
    hits = [i for i, line in enumerate(lines) if line == name_line]
    if len(hits) != 1:
        raise SystemExit(f"expected one {name_line!r}, found {len(hits)}")
    value_index = hits[0] + 1
    if not lines[value_index].lstrip().startswith("value:"):
        raise SystemExit(f"no value line after {name_line!r}")
    lines[value_index] = new_value_line


def template_common(lines):
    replace_exactly(lines, '  calico_backend: "bird"', '  calico_backend: "{{ if $vxlan }}vxlan{{ else }}bird{{ end }}"')
    pad = "              "
    replace_value_after(lines, "            - name: CALICO_IPV4POOL_IPIP",
                        pad + 'value: {{ if $ipip }}{{ .Values.encapsulationMode | quote }}{{ else }}"Never"{{ end }}')
    replace_value_after(lines, "            - name: CALICO_IPV4POOL_VXLAN",
                        pad + 'value: {{ if $vxlan }}{{ .Values.encapsulationMode | quote }}{{ else }}"Never"{{ end }}')
    if "            - name: CALICO_IPV6POOL_VXLAN" in lines:
        replace_value_after(lines, "            - name: CALICO_IPV6POOL_VXLAN",
                            pad + 'value: {{ if $vxlan }}{{ .Values.encapsulationMode | quote }}{{ else }}"Never"{{ end }}')
    replace_exactly(lines, "            # - name: CALICO_IPV4POOL_CIDR", "            - name: CALICO_IPV4POOL_CIDR")
    replace_exactly(lines, '            #   value: "192.168.0.0/16"', pad + "value: {{ .Values.calicoNetworkCIDR | quote }}")
    # BIRD is not running with VXLAN, so its probes go: the bird line is joined to the felix line.
    replace_exactly(lines, "              - -felix-live", "              - -felix-live{{ if not $vxlan }}")
    replace_exactly(lines, "              - -bird-live", "              - -bird-live{{ end }}")
    replace_exactly(lines, "              - -felix-ready", "              - -felix-ready{{ if not $vxlan }}")
    replace_exactly(lines, "              - -bird-ready", "              - -bird-ready{{ end }}")


def template_etcd(lines):
    template_common(lines)
    for key in ("key", "cert", "ca"):
        replace_exactly(lines, f"  # etcd-{key}: null",
                        f"  {{{{ if $etcd.{key} }}}}etcd-{key}: {{{{ $etcd.{key} | quote }}}}{{{{ else }}}}# etcd-{key}: null{{{{ end }}}}")
    replace_exactly(lines, '  etcd_endpoints: "http://<ETCD_IP>:<ETCD_PORT>"',
                    '  etcd_endpoints: {{ required "etcd.endpoints is required when datastore is etcd" $etcd.endpoints | quote }}')
    replace_exactly(lines, '  etcd_ca: ""   # "/calico-secrets/etcd-ca"',
                    '  etcd_ca: "{{ if $etcd.ca }}/calico-secrets/etcd-ca{{ end }}"   # "/calico-secrets/etcd-ca"')
    replace_exactly(lines, '  etcd_cert: "" # "/calico-secrets/etcd-cert"',
                    '  etcd_cert: "{{ if $etcd.cert }}/calico-secrets/etcd-cert{{ end }}" # "/calico-secrets/etcd-cert"')
    replace_exactly(lines, '  etcd_key: ""  # "/calico-secrets/etcd-key"',
                    '  etcd_key: "{{ if $etcd.key }}/calico-secrets/etcd-key{{ end }}"  # "/calico-secrets/etcd-key"')


def read_lines(version, name):
    with open(os.path.join(UPSTREAM, "v" + version, name), encoding="utf-8") as f:
        text = f.read()
    if "{{" in text:
        raise SystemExit(f"{name} of {version} already contains template actions")
    return text.split("\n")


def manifest(version):
    etcd = read_lines(version, "calico-etcd.yaml")
    template_etcd(etcd)
    kubernetes = read_lines(version, "calico.yaml")
    template_common(kubernetes)
    return HEADER % {"version": version} + "\n".join(etcd).rstrip("\n") + "\n" + MIDDLE + "\n".join(kubernetes).rstrip("\n") + "\n" + FOOTER


def images(version):
    found = []
    for line in read_lines(version, "calico.yaml"):
        stripped = line.strip()
        if stripped.startswith("image: "):
            image = stripped[len("image: "):].strip('"')
            if image not in found:
                found.append(image)
    return found


def pack_json(version, state, k8s_min, k8s_max):
    annotations = {
        "source": "spectrocloud",
        "categories": "network,amd64,fips",
        "architecture": "amd64",
        "docsURL": f"https://docs.tigera.io/archive/v{version.rsplit('.', 1)[0]}/",
        # The value holding the pod CIDR: profile validation compares it with the Kubernetes layer's.
        "podCIDRValuePath": "manifests.calico.calicoNetworkCIDR",
    }
    if state == "deprecated":
        annotations["system_state"] = "deprecated"
    return {
        "name": "cni-calico",
        "displayName": "Calico",
        "version": version,
        "layer": "cni",
        "addonType": "",
        "cloudTypes": CLOUDS,
        "annotations": annotations,
        "kubeManifests": ["manifests/calico.yaml"],
        "constraints": {
            "dependencies": [
                {"packName": "kubernetes", "layer": "k8s", "type": "required",
                 "minVersion": k8s_min, "maxVersion": k8s_max}
            ]
        },
    }


VALUES = """# Calico %(version)s: Project Calico's CNI with its manifests, rendered per cloud.
pack:
  namespace: kube-system
  content:
    images:
%(images)s

manifests:
  calico:
    # The cloud the cluster runs on, filled in from the requested cloud. Read-only.
    cloudType: "{{ .spectro.system.cloud.type }}"
    # Encapsulation of the default IPv4 pool: CALICO_IPV4POOL_IPIP or CALICO_IPV4POOL_VXLAN.
    # Default: VXLAN on Azure (its fabric drops IP-in-IP), IP-in-IP on every other cloud.
    encapsulationType: '{{ if eq .spectro.system.cloud.type "azure" }}CALICO_IPV4POOL_VXLAN{{ else }}CALICO_IPV4POOL_IPIP{{ end }}'
    # When to encapsulate: Always, CrossSubnet (only between subnets) or Never (routed by BGP).
    encapsulationMode: Always
    # The pod IP pool (CALICO_IPV4POOL_CIDR). It must equal the Kubernetes layer's pod CIDR, which it
    # follows in a cluster profile.
    calicoNetworkCIDR: '{{ .spectro.pack.kubernetes.pack.podCIDR | default "192.168.0.0/16" }}'
    # Where Calico keeps its state: kubernetes (the Kubernetes API) or etcd.
    datastore: kubernetes
    # etcd datastore only: the cluster's endpoints and, for TLS, base64-encoded PEM files.
    etcd:
      endpoints: ""
      ca: ""
      cert: ""
      key: ""
"""

SCHEMA = """manifests.calico.cloudType:
  schema: '{{ readonly | format "${string}" | hints "The cloud the cluster runs on, filled in by the registry" }}'
manifests.calico.encapsulationType:
  schema: '{{ required | format "${list:[CALICO_IPV4POOL_IPIP,CALICO_IPV4POOL_VXLAN]}" | hints "Encapsulation of the default IPv4 pool" "VXLAN on Azure, IP-in-IP on every other cloud" }}'
manifests.calico.encapsulationMode:
  schema: '{{ required | format "${list:[Always,CrossSubnet,Never]}" | hints "When to encapsulate pod traffic" }}'
manifests.calico.calicoNetworkCIDR:
  schema: '{{ required | format "${ipv4}/${number:[0-32]}" | hints "The pod IP pool; must equal the Kubernetes pod CIDR" }}'
manifests.calico.datastore:
  schema: '{{ required | format "${list:[kubernetes,etcd]}" | hints "Where Calico keeps its state" }}'
manifests.calico.etcd.endpoints:
  schema: '{{ format "${string}" | hints "Comma-separated etcd URLs; required when the datastore is etcd" }}'
manifests.calico.etcd.ca:
  schema: '{{ format "${base64}" | hints "Base64-encoded PEM CA certificate of etcd, on one line (optional)" }}'
manifests.calico.etcd.cert:
  schema: '{{ format "${base64}" | hints "Base64-encoded PEM client certificate for etcd, on one line (optional)" }}'
manifests.calico.etcd.key:
  schema: '{{ format "${password:/^[A-Za-z0-9+\\/]+={0,2}$/}" | hints "Base64-encoded PEM client key for etcd, on one line (optional)" }}'
"""

PRESETS = """presets:
  - name: ipip-always
    displayName: IP-in-IP, always
    group: Encapsulation
    remove: []
    add: |
      manifests:
        calico:
          encapsulationType: CALICO_IPV4POOL_IPIP
          encapsulationMode: Always
  - name: ipip-crosssubnet
    displayName: IP-in-IP between subnets only
    group: Encapsulation
    remove: []
    add: |
      manifests:
        calico:
          encapsulationType: CALICO_IPV4POOL_IPIP
          encapsulationMode: CrossSubnet
  - name: vxlan-always
    displayName: VXLAN, always
    group: Encapsulation
    remove: []
    add: |
      manifests:
        calico:
          encapsulationType: CALICO_IPV4POOL_VXLAN
          encapsulationMode: Always
  - name: vxlan-crosssubnet
    displayName: VXLAN between subnets only
    group: Encapsulation
    remove: []
    add: |
      manifests:
        calico:
          encapsulationType: CALICO_IPV4POOL_VXLAN
          encapsulationMode: CrossSubnet
  - name: no-encapsulation
    displayName: No encapsulation (BGP-routed)
    group: Encapsulation
    remove: []
    add: |
      manifests:
        calico:
          encapsulationMode: Never
  - name: etcd-datastore
    displayName: etcd datastore
    group: Datastore
    remove: []
    add: |
      manifests:
        calico:
          datastore: etcd
"""

README = """# Calico %(version)s

[Calico](https://www.tigera.io/project-calico/) is Project Calico's container networking and network policy
for Kubernetes. This pack installs Calico %(version)s from Project Calico's own manifests as the cluster's CNI
(layer `cni`): the `calico-node` DaemonSet on every node (it installs the CNI plugin and routes pod traffic),
the `calico-kube-controllers` Deployment, their RBAC, and Calico's 17 custom resource definitions.%(deprecated)s

## Parameters

All parameters live under `manifests.calico` in the pack values.

| Parameter | Supported values | Default | Description |
|---|---|---|---|
| `encapsulationType` | `CALICO_IPV4POOL_IPIP`, `CALICO_IPV4POOL_VXLAN` | VXLAN on Azure; IP-in-IP on AWS, VMware vSphere and every other cloud | Encapsulation of the default IPv4 pool |
| `encapsulationMode` | `Always`, `CrossSubnet`, `Never` | `Always` | When to encapsulate: always, only between subnets, or never (pods routed by BGP) |
| `calicoNetworkCIDR` | an IPv4 CIDR | the Kubernetes layer's pod CIDR, else `192.168.0.0/16` | The pod IP pool (`CALICO_IPV4POOL_CIDR`); must equal the Kubernetes pod CIDR |
| `datastore` | `kubernetes`, `etcd` | `kubernetes` | Where Calico keeps its state |
| `etcd.endpoints` | comma-separated URLs | none | etcd datastore only, and then required |
| `etcd.ca`, `etcd.cert`, `etcd.key` | base64-encoded PEM | none | etcd TLS assets, optional |
| `cloudType` | read-only | the cloud of the cluster | Filled in by the registry; used to refuse IP-in-IP on Azure |

Presets: `Encapsulation` (IP-in-IP always or between subnets, VXLAN always or between subnets, no
encapsulation) and `Datastore` (etcd).

With VXLAN, `calico_backend` is `vxlan` and the BIRD liveness and readiness checks are left out (BIRD does
not run); with IP-in-IP or no encapsulation Calico uses BGP (`bird`).

## Versions

| Line | Versions | State |
|---|---|---|
| `3.24.x` | 3.24.6, 3.24.5 | active (`3.24.x` resolves to 3.24.6) |
| `3.23.x` | 3.23.5 | active |
| older | 3.22.5 | deprecated: every version below 3.23.x is deprecated |

This version supports Kubernetes %(k8s_min)s to %(k8s_max)s.

## Clouds

- **Azure**: VXLAN only. Azure's network fabric drops IP-in-IP packets, so asking for `CALICO_IPV4POOL_IPIP`
  with encapsulation on Azure is refused with an error instead of rendering a network that cannot work.
- **AWS**: turn off source/destination checks on the instances. Across subnets or availability zones use
  IP-in-IP (`CrossSubnet` is recommended) with outgoing NAT.
- **Google Cloud**: IP-in-IP with outgoing NAT; the firewall must allow protocol `ipip` between nodes.
- **MTU**: Calico detects it. Only when overriding: IP-in-IP = network MTU - 20, VXLAN = network MTU - 50.

## Troubleshooting

- Pods stay `ContainerCreating` with "network plugin is not ready": check that `calico-node` pods run on
  every node (`kubectl -n kube-system get pods -l k8s-app=calico-node`) and read their logs.
- Pods cannot reach pods on other nodes: the encapsulation does not fit the network. On AWS check
  source/destination checks and security groups (protocol 4 for IP-in-IP, UDP 4789 for VXLAN); on Azure use
  VXLAN.
- Pod IPs outside the expected range: `calicoNetworkCIDR` must equal the Kubernetes `podCIDR`; the pool is
  created once, at installation, so changing it later has no effect.
- `calico-node` not ready with BIRD errors while using VXLAN: make sure `encapsulationType` is
  `CALICO_IPV4POOL_VXLAN` so that the BIRD checks are left out.
"""


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


def png(width, height, pixels):
    """Encodes RGBA rows as a PNG."""
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def logo(size=128, background=(251, 118, 33)):
    """A rounded tile with a white network: a ring of six nodes around a hub."""
    orange = background
    white = (255, 255, 255)
    c = size / 2
    nodes = [(c + 34 * math.cos(a), c + 34 * math.sin(a)) for a in [i * math.pi / 3 - math.pi / 2 for i in range(6)]]

    def inside_tile(x, y):
        r = 22
        dx = max(abs(x - c) - (c - r), 0)
        dy = max(abs(y - c) - (c - r), 0)
        return dx * dx + dy * dy <= r * r

    def segment_distance(px, py, ax, ay, bx, by):
        vx, vy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)))
        return math.hypot(px - (ax + t * vx), py - (ay + t * vy))

    def is_white(x, y):
        if math.hypot(x - c, y - c) <= 11:
            return True
        for i, (nx, ny) in enumerate(nodes):
            if math.hypot(x - nx, y - ny) <= 8:
                return True
            mx, my = nodes[(i + 1) % 6]
            if segment_distance(x, y, nx, ny, mx, my) <= 2.5 or segment_distance(x, y, nx, ny, c, c) <= 2.5:
                return True
        return False

    rows = []
    samples = 4
    for y in range(size):
        row = []
        for x in range(size):
            tile = whites = 0
            for sy in range(samples):
                for sx in range(samples):
                    px, py = x + (sx + 0.5) / samples, y + (sy + 0.5) / samples
                    if inside_tile(px, py):
                        tile += 1
                        whites += is_white(px, py)
            n = samples * samples
            if tile == 0:
                row += [0, 0, 0, 0]
                continue
            w = whites / tile
            colour = [round(orange[k] * (1 - w) + white[k] * w) for k in range(3)]
            row += colour + [round(255 * tile / n)]
        rows.append(row)
    return png(size, size, rows)


KUBERNETES_VERSION = "1.24.10"

KUBERNETES_PACK_JSON = {
    "name": "kubernetes",
    "displayName": "Kubernetes",
    "version": KUBERNETES_VERSION,
    "layer": "k8s",
    "cloudTypes": ["all"],
    "annotations": {
        "source": "spectrocloud",
        "categories": "kubernetes,amd64",
        "architecture": "amd64",
        "podCIDRValuePath": "pack.podCIDR",
    },
}

KUBERNETES_VALUES = """# Kubernetes %(version)s: the cluster's network ranges, read by the other layers of a profile.
pack:
  # The pod network. A CNI layer's pool must equal it (Calico follows it by default).
  podCIDR: "192.168.0.0/16"
  # The service network.
  serviceClusterIpRange: "10.96.0.0/12"
"""

KUBERNETES_SCHEMA = """pack.podCIDR:
  schema: '{{ required | format "${ipv4}/${number:[0-32]}" | hints "The pod network CIDR" }}'
pack.serviceClusterIpRange:
  schema: '{{ required | format "${ipv4}/${number:[0-32]}" | hints "The service network CIDR" }}'
"""

KUBERNETES_README = """# Kubernetes %(version)s

The Kubernetes layer of a cluster profile. This minimal pack carries no manifests: it states the
cluster's network ranges so that the other layers can follow them (`{{ .spectro.pack.kubernetes.pack.podCIDR }}`)
and profile validation can check them.

| Parameter | Default | Description |
|---|---|---|
| `pack.podCIDR` | `192.168.0.0/16` | The pod network; a CNI's pod pool must equal it |
| `pack.serviceClusterIpRange` | `10.96.0.0/12` | The service network |
"""


def main():
    folder = os.path.join(ROOT, "packs", f"kubernetes-{KUBERNETES_VERSION}")
    write(os.path.join(folder, "pack.json"), json.dumps(KUBERNETES_PACK_JSON, indent=2) + "\n")
    write(os.path.join(folder, "values.yaml"), KUBERNETES_VALUES % {"version": KUBERNETES_VERSION})
    write(os.path.join(folder, "schema.yaml"), KUBERNETES_SCHEMA)
    write(os.path.join(folder, "README.md"), KUBERNETES_README % {"version": KUBERNETES_VERSION})
    write(os.path.join(folder, "logo.png"), logo(background=(50, 108, 229)))
    print("wrote", folder)
    logo_bytes = logo()
    for version, (state, k8s_min, k8s_max) in VERSIONS.items():
        folder = os.path.join(ROOT, "packs", f"cni-calico-{version}")
        write(os.path.join(folder, "manifests", "calico.yaml"), manifest(version))
        write(os.path.join(folder, "pack.json"), json.dumps(pack_json(version, state, k8s_min, k8s_max), indent=2) + "\n")
        image_lines = "\n".join(f"      - image: {image}" for image in images(version))
        write(os.path.join(folder, "values.yaml"), VALUES % {"version": version, "images": image_lines})
        write(os.path.join(folder, "schema.yaml"), SCHEMA)
        write(os.path.join(folder, "presets.yaml"), PRESETS)
        deprecated = ("\n\n**This version is deprecated**: every Calico version below 3.23.x is. Use 3.24.x."
                      if state == "deprecated" else "")
        write(os.path.join(folder, "README.md"),
              README % {"version": version, "deprecated": deprecated, "k8s_min": k8s_min, "k8s_max": k8s_max + ".x"})
        write(os.path.join(folder, "logo.png"), logo_bytes)
        print("wrote", folder)


if __name__ == "__main__":
    main()

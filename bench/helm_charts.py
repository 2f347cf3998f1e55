"""Helm's own engine (the Go SDK through helm-python-sdk) on a chart corpus: every chart with its
default values, ITERATIONS sweeps, timing only the render call (dependency processing, values,
schema, engine: what `helm template` runs; a fresh chart is loaded before each render, untimed,
since Helm's render removes disabled subcharts from it). Writes each chart's `helm template`
stream to OUT/<folder>.yaml for comparison. Run with GOMAXPROCS=1 for one thread.
Usage: helm_charts.py CORPUS ITERATIONS OUT"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True


def main():
    corpus, iterations, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.path.insert(0, corpus)
    import helm_python as helm
    from helm_python import _native
    from helm_template import HelmTemplateError, helm_template

    os.makedirs(out, exist_ok=True)
    folders = sorted(f for f in os.listdir(corpus) if os.path.exists(os.path.join(corpus, f, "Chart.yaml")))
    charts = []
    for folder in folders:
        path = os.path.join(corpus, folder)
        with helm.Chart.load(path) as chart:
            name = chart.name
        charts.append((folder, path, name))
        try:
            text = helm_template(path, [], release=name, namespace="default", kube_version="1.30.0", include_crds=True)
        except (HelmTemplateError, helm.HelmError) as e:
            text = f"Error: {getattr(e, 'detail', None) or e}\n"
        with open(os.path.join(out, f"{folder}.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
    elapsed = 0.0
    for _ in range(iterations):
        for folder, path, name in charts:
            chart = helm.Chart.load(path)
            opts = json.dumps({"name": name, "namespace": "default", "revision": 1, "is_install": True,
                               "is_upgrade": False, "kube_version": "1.30.0"})
            started = time.perf_counter()
            try:
                _native.call_string("helm_render", chart._raw(), "{}", opts)
            except helm.HelmError:
                pass
            elapsed += time.perf_counter() - started
            chart.close()
    print(json.dumps({"charts": len(charts), "per_s": iterations / elapsed}))


if __name__ == "__main__":
    main()

"""Helm's own template engine (the Go SDK, through the helm-python-sdk bindings) on a chart:
renders per second. Usage: helm_render.py CHART_DIR ITERATIONS"""
import json
import sys
import time

import helm_python as helm


def main():
    chart_dir, iterations = sys.argv[1], int(sys.argv[2])
    chart = helm.Chart.load(chart_dir)
    rendered = {}
    started = time.perf_counter()
    for _ in range(iterations):
        rendered = chart.render(name="bench", namespace="kube-system")
    elapsed = time.perf_counter() - started
    output = next(iter(v for k, v in rendered.items() if k.endswith(".yaml")))
    with open(f"{chart_dir}/helm-output.yaml", "w", encoding="utf-8") as f:
        f.write(output)
    print(json.dumps({"per_s": iterations / elapsed, "bytes": len(output)}))


if __name__ == "__main__":
    main()

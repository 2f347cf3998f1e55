"""Renders template snippets through Helm's own engine (helm-python-sdk's native `helm_render`,
through the module of ../shared/charts/helm_template.py) for tests/function_oracle.rs.

    helm_functions.py <dir of helm_template.py>  < request.json  > answers.json

The request: {"values": {...}, "templates": {"<name>": "<template text>", ...}, "files": {...}}.
Every template becomes `fn/templates/<name>.txt` of one chart named `fn` (version 0.1.0,
apiVersion v2) with `values` as the user's values; `files` (optional) adds chart files by their
path inside the chart (`values.yaml`, `charts/<sub>/...`; a `Chart.yaml` there replaces the
default one). Helm renders the whole chart at once and stops at the first error,
so a chart that fails is split in halves until every error belongs to one template.

The answer: {"<name>": {"out": "<what the template rendered>"} or {"err": "<Helm's error>"}}.
"""

import io
import json
import sys
import tarfile


def chart(templates, extra):
    files = {"fn/Chart.yaml": "apiVersion: v2\nname: fn\nversion: 0.1.0\n"}
    for path, text in extra.items():
        files[f"fn/{path}"] = text
    for name, text in templates.items():
        files[f"fn/templates/{name}.txt"] = text
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def render(helm, native, templates, values, extra):
    """Each template's output, or raises helm.HelmRenderError for the chart."""
    with helm.Chart.load_archive(chart(templates, extra)) as loaded:
        out = native.call_string("helm_render", loaded._raw(), json.dumps(values), None)
    rendered = json.loads(out)
    return {name: rendered.get(f"fn/templates/{name}.txt", "") for name in templates}


def answer(helm, native, templates, values, extra, answers):
    if not templates:
        return
    try:
        for name, out in render(helm, native, templates, values, extra).items():
            answers[name] = {"out": out}
        return
    except helm.HelmRenderError as error:
        if len(templates) == 1:
            (name,) = templates
            answers[name] = {"err": str(error)}
            return
    names = sorted(templates)
    half = len(names) // 2
    answer(helm, native, {n: templates[n] for n in names[:half]}, values, extra, answers)
    answer(helm, native, {n: templates[n] for n in names[half:]}, values, extra, answers)


def main():
    sys.path.insert(0, sys.argv[1])
    import helm_template  # noqa: E402 (the oracle's module, from the reference data)

    request = json.load(sys.stdin)
    answers = {}
    answer(
        helm_template.helm,
        helm_template._native,
        request["templates"],
        request["values"],
        request.get("files", {}),
        answers,
    )
    json.dump(answers, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

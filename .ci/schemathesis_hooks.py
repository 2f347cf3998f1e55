"""schemathesis hooks for packyard's API contract run (loaded through SCHEMATHESIS_HOOKS).

Render responses are YAML streams, one document per Kubernetes object, opened by `---` (the
document describes them as arrays of objects); values are one mapping. schemathesis reads
application/yaml as a single document, and the parse error on the second one kills its worker
thread (the remaining operations are then silently never fuzzed). Read streams as streams.
"""

import schemathesis
import yaml


# Every YAML media type: the first registered one of the family is the one schemathesis picks.
@schemathesis.deserializer("text/yaml", "text/x-yaml", "application/x-yaml", "text/vnd.yaml", "application/yaml")
def yaml_stream(_ctx, response):
    try:
        text = response.content.decode(response.encoding or "utf-8")
    except UnicodeDecodeError:
        # A blob served with the type its client asked for (`?type=application/yaml`): bytes, not
        # YAML to check, as schemathesis treats any binary media type.
        raise NotImplementedError("not YAML text") from None
    if text.lstrip().startswith("---") or not text.strip():
        return list(yaml.safe_load_all(text))
    return yaml.safe_load(text)

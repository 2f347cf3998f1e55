"""Drives Helm's own registry client (PyPI `helm-python-sdk`) against a registry for
tests/oci_clients.rs: `helm registry login`, `helm push <chart>.tgz oci://<host>/<path>`,
the chart's tags, `helm pull oci://<host>/<path>/<chart> --version <v>`.

    helm_chart.py <host:port> <path> <chart.tgz> <outdir> [--user U --password P] [--ca FILE]

Prints one JSON object: {"push": ..., "tags": [...], "pull": ...}, each step's result, or
{"error": "..."} for the first step that failed. Logins are kept in a file under <outdir>.
"""

import argparse
import json
import os
import sys

from helm_python import registry


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("path")
    parser.add_argument("chart")
    parser.add_argument("outdir")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--ca")
    args = parser.parse_args()

    plain_http = args.ca is None
    if args.ca:
        # Helm's client reads the system's trust store; SSL_CERT_FILE adds the test's CA.
        os.environ["SSL_CERT_FILE"] = args.ca
    os.makedirs(args.outdir, exist_ok=True)
    result = {}
    client = registry.RegistryClient(
        plain_http=plain_http,
        credentials_file=os.path.join(args.outdir, "registry.json"),
    )
    try:
        if args.user:
            client.login(args.host, args.user, args.password, plain_http=plain_http)
        remote = f"oci://{args.host}/{args.path}"
        result["push"] = client.push(args.chart, remote, plain_http=plain_http)
        name = os.path.basename(args.chart).rsplit("-", 1)[0]
        reference = f"{remote}/{name}"
        result["tags"] = client.tags(reference)
        result["pull"] = client.pull(
            reference,
            version=result["tags"][0],
            destination=args.outdir,
            plain_http=plain_http,
        )
    except Exception as error:  # the test reads what went wrong
        result["error"] = f"{type(error).__name__}: {error}"
    finally:
        client.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drives ORAS's Python SDK (PyPI `oras`) against a registry for tests/oci_clients.rs.

    oras_pack.py push <host:port> <repository:tag> <file> [--user U --password P] [--ca FILE]
    oras_pack.py pull <host:port> <repository:tag> <outdir> [--user U --password P] [--ca FILE]

Plain HTTP unless --ca names the CA of the registry's TLS certificate. Prints one JSON object:
{"ok": true, ...} or {"ok": false, "error": "..."}. Credentials are kept in $HOME (the test
gives each run its own).
"""

import argparse
import json
import os
import sys

import oras.client
import oras.decorator


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["push", "pull"])
    parser.add_argument("host")
    parser.add_argument("target")
    parser.add_argument("path")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--ca")
    args = parser.parse_args()

    if not args.user:
        # Refused requests are retried with back-off (3 s + 3^n s, five times) before oras-py
        # gives up; the refusal is the same each time, so the test does not wait for it.
        oras.decorator.time.sleep = lambda _seconds: None
    tls = args.ca is not None
    client = oras.client.OrasClient(
        hostname=args.host,
        insecure=not tls,
        tls_verify=args.ca if tls else False,
        auth_backend="basic",
    )
    try:
        if args.user:
            client.login(
                username=args.user,
                password=args.password,
                hostname=args.host,
                tls_verify=args.ca if tls else False,
            )
        reference = f"{args.host}/{args.target}"
        if args.action == "push":
            # As with the ORAS CLI, files are pushed from their own directory, by name (the
            # layer's title is the file name).
            os.chdir(os.path.dirname(os.path.abspath(args.path)))
            response = client.push(target=reference, files=[os.path.basename(args.path)])
            result = {"ok": True, "status": response.status_code}
        else:
            files = client.pull(target=reference, outdir=args.path)
            result = {"ok": True, "files": files}
    except Exception as error:  # the test reads what went wrong
        result = {"ok": False, "error": str(error)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

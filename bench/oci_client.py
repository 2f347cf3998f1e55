"""A minimal OCI push client for bench/oci (standard library only).

    oci_client.py seed <base-url> <repository> <tag>          # config + 4 KiB layer + 64 MiB layer + manifest
                                                               # (the layers from $SEED_DIR, made on first use,
                                                               # so every registry gets the same bytes)
    oci_client.py push <base-url> <repository> <runs>          # timed 64 MiB chunked pushes (16 MiB chunks)

`seed` prints the digests of the 4 KiB and 64 MiB layers; `push` prints the seconds of each run.
AUTH in the environment is sent as the Authorization header.
"""

import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse

CHUNK = 16 << 20


class Registry:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port)
        self.auth = os.environ.get("AUTH")

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.auth:
            headers["Authorization"] = self.auth
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response

    def start(self, repository):
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", headers={"Content-Length": "0"})
        assert response.status == 202, response.status
        return response.getheader("Location")

    def path_of(self, location):
        url = urllib.parse.urlsplit(location)
        return url.path + (f"?{url.query}" if url.query else "")

    def put_blob(self, repository, content):
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        location = self.path_of(self.start(repository))
        separator = "&" if "?" in location else "?"
        response = self.request(
            "PUT",
            f"{location}{separator}digest={digest}",
            body=content,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(content))},
        )
        assert response.status == 201, response.status
        return digest

    def chunked_push(self, repository, content):
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        location = self.path_of(self.start(repository))
        for start in range(0, len(content), CHUNK):
            chunk = content[start : start + CHUNK]
            response = self.request(
                "PATCH",
                location,
                body=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(len(chunk)),
                    "Content-Range": f"{start}-{start + len(chunk) - 1}",
                },
            )
            assert response.status == 202, response.status
            location = self.path_of(response.getheader("Location"))
        separator = "&" if "?" in location else "?"
        response = self.request("PUT", f"{location}{separator}digest={digest}", headers={"Content-Length": "0"})
        assert response.status == 201, response.status
        return digest


def seed_content(directory):
    contents = []
    for name, size in [("small", 4096), ("large", 64 << 20)]:
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            with open(path, "wb") as out:
                out.write(os.urandom(size))
        with open(path, "rb") as f:
            contents.append(f.read())
    return contents


def main():
    action, base, repository, arg = sys.argv[1:5]
    registry = Registry(base)
    if action == "seed":
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        small, large = seed_content(os.environ["SEED_DIR"])
        descriptors = []
        for content, media_type in [(small, "application/vnd.oci.image.layer.v1.tar"), (large, "application/vnd.oci.image.layer.v1.tar")]:
            descriptors.append({"mediaType": media_type, "digest": registry.put_blob(repository, content), "size": len(content)})
        config_digest = registry.put_blob(repository, config)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
            "layers": descriptors,
        }).encode()
        response = registry.request(
            "PUT",
            f"/v2/{repository}/manifests/{arg}",
            body=manifest,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert response.status == 201, response.status
        print(descriptors[0]["digest"], descriptors[1]["digest"])
    else:
        for _ in range(int(arg)):
            content = os.urandom(64 << 20)
            started = time.monotonic()
            registry.chunked_push(repository, content)
            print(f"{time.monotonic() - started:.4f}")


if __name__ == "__main__":
    main()

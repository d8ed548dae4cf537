"""The download path against a local HTTP server, with tiny synthetic IDX files: success lands in the cache,
MD5 mismatch / truncation / no network raise clear errors and leave nothing behind, local corrupt files are reported.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from gradlab.data.datasets import MNIST, write_idx

FOLDER = "tiny-mnist-for-tests"
FILES = ("tiny-images-idx3-ubyte.gz", "tiny-labels-idx1-ubyte.gz")


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path.startswith("/truncated/"):
            body = (Path(self.directory) / "good" / self.path.split("/")[-1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A local mirror with good/ and corrupt/ copies of two tiny IDX files, and a dataset class pointed at it."""
    monkeypatch.delenv("GRADLAB_DATA", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    site = tmp_path / "site"
    (site / "good").mkdir(parents=True)
    (site / "corrupt").mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    write_idx(site / "good" / FILES[0], images)
    write_idx(site / "good" / FILES[1], labels)
    md5s = [hashlib.md5((site / "good" / f).read_bytes()).hexdigest() for f in FILES]
    for f in FILES:  # same size, one byte changed
        blob = bytearray((site / "good" / f).read_bytes())
        blob[len(blob) // 2] ^= 0x55
        (site / "corrupt" / f).write_bytes(bytes(blob))

    _Handler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    class Tiny(MNIST):
        folder = FOLDER
        mirrors = [base + "/good/"]
        resources = {"train": tuple(zip(FILES, md5s)), "test": tuple(zip(FILES, md5s))}
        timeout = 5.0

    yield {"cls": Tiny, "base": base, "home": home, "images": images, "labels": labels, "site": site}
    server.shutdown()
    server.server_close()


def _cache(served) -> Path:
    return served["home"] / ".cache" / "gradlab" / FOLDER


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_download_lands_in_cache_and_loads(served):
    Tiny = served["cls"]
    ds = Tiny()
    cache = _cache(served)
    assert ds.folder_path == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)  # no temporary files left
    np.testing.assert_array_equal(ds.data, served["images"])
    np.testing.assert_array_equal(ds.targets, served["labels"].astype(np.int64))
    assert len(_Handler.requests) == 2
    Tiny(train=False)  # found in the cache now: no new request
    assert len(_Handler.requests) == 2


def test_download_into_root(served, tmp_path):
    (tmp_path / "myroot").mkdir()
    ds = served["cls"](root=tmp_path / "myroot")
    assert ds.folder_path == tmp_path / "myroot" / FOLDER
    assert sorted(p.name for p in ds.folder_path.iterdir()) == sorted(FILES)
    assert not _cache(served).exists()


def test_falls_back_to_next_mirror(served):
    Tiny = served["cls"]
    Tiny.mirrors = [served["base"] + "/missing/", served["base"] + "/good/"]
    ds = Tiny()
    assert len(ds) == 12
    assert [r.split("/")[1] for r in _Handler.requests] == ["missing", "good", "missing", "good"]


def test_corrupted_download_raises_and_leaves_nothing(served):
    Tiny = served["cls"]
    Tiny.mirrors = [served["base"] + "/corrupt/"]
    with pytest.raises(RuntimeError, match="MD5 mismatch") as err:
        Tiny()
    assert FILES[0] in str(err.value) and "GRADLAB_DATA" in str(err.value)
    assert _leftovers(served["home"]) == []
    assert not (served["home"] / ".cache").exists()


def test_truncated_download_raises_and_leaves_nothing(served):
    Tiny = served["cls"]
    Tiny.mirrors = [served["base"] + "/truncated/"]
    with pytest.raises(RuntimeError, match="could not download") as err:
        Tiny()
    assert "truncated" in str(err.value).lower() or "IncompleteRead" in str(err.value)
    assert _leftovers(served["home"]) == []


def test_partial_cache_downloads_only_missing_file(served):
    cache = _cache(served)
    cache.mkdir(parents=True)
    (cache / FILES[1]).write_bytes((served["site"] / "good" / FILES[1]).read_bytes())
    served["cls"]()
    assert [r.split("/")[-1] for r in _Handler.requests] == [FILES[0]]


def test_offline_error_lists_searched_paths(served, tmp_path):
    Tiny = served["cls"]
    with socket.socket() as s:  # a port with nothing listening: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Tiny.mirrors = [f"http://127.0.0.1:{port}/"]
    (tmp_path / "r").mkdir()
    with pytest.raises(RuntimeError) as err:
        Tiny(root=tmp_path / "r")
    msg = str(err.value)
    assert "GRADLAB_DATA" in msg
    assert str(tmp_path / "r" / FOLDER) in msg
    assert str(served["home"] / ".cache" / "gradlab" / FOLDER) not in msg  # with root, nowhere else is searched
    assert f"127.0.0.1:{port}" in msg
    assert os.listdir(tmp_path / "r") == []
    with pytest.raises(RuntimeError) as err:
        Tiny()
    assert str(served["home"] / ".cache" / "gradlab" / FOLDER) in str(err.value)


def test_missing_root_fails_at_once_naming_it(served, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"root {tmp_path / 'nope'} does not exist"):
        served["cls"](root=tmp_path / "nope")  # download=True: still no request, no folder created
    assert _Handler.requests == [] and not (tmp_path / "nope").exists()


def test_not_found_without_download(served):
    with pytest.raises(FileNotFoundError) as err:
        served["cls"](download=False)
    msg = str(err.value)
    assert "download=False" in msg and "GRADLAB_DATA" in msg and FILES[0] in msg
    assert str(served["home"] / ".cache" / "gradlab" / FOLDER) in msg
    assert _Handler.requests == []


def test_local_md5_mismatch_is_a_clear_error(served):
    cache = _cache(served)
    cache.mkdir(parents=True)
    (cache / FILES[0]).write_bytes((served["site"] / "corrupt" / FILES[0]).read_bytes())
    (cache / FILES[1]).write_bytes((served["site"] / "good" / FILES[1]).read_bytes())
    with pytest.raises(ValueError, match=r"MD5 mismatch") as err:
        served["cls"]()
    assert str(cache / FILES[0]) in str(err.value)
    assert FILES[1] not in str(err.value).replace(str(cache / FILES[0]), "")
    assert _Handler.requests == []  # a damaged local file is reported, never silently replaced


def test_md5_ok_but_bad_content_raises_value_error(served):
    # a file with the expected MD5 whose content is not a valid IDX: the parser reports it
    Tiny = served["cls"]
    cache = _cache(served)
    cache.mkdir(parents=True)
    bad = gzip.compress(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"\x01\x02")
    (cache / FILES[0]).write_bytes((served["site"] / "good" / FILES[0]).read_bytes())
    (cache / FILES[1]).write_bytes(bad)
    Tiny.resources = {
        "train": (Tiny.resources["train"][0], (FILES[1], hashlib.md5(bad).hexdigest())),
        "test": Tiny.resources["test"],
    }
    with pytest.raises(ValueError, match=r"tiny-labels-idx1-ubyte\.gz: truncated data"):
        Tiny()

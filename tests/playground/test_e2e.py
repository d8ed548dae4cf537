"""End to end in a real browser: Debian's chromium driven by Playwright for Python, against `gradlab playground`
started as a subprocess. Skipped (with the reason) only where /usr/bin/chromium or playwright is missing."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
    pytest.mark.skipif(shutil.which("true") is None, reason="no POSIX tools"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "gradlab", "playground", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        line = proc.stdout.readline()  # the URL, printed once the socket is bound
        assert url in line, line + (proc.stdout.read() if proc.poll() is not None else "")
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "api/info", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


COUNT_COLOURS = """() => {
  const c = document.getElementById('heatmap'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set(); let blue = 0, orange = 0;
  for (let i = 0; i < d.length; i += 4) {
    seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (d[i + 2] > 150 && d[i] < 100) blue++;
    if (d[i] > 200 && d[i + 2] < 100) orange++;
  }
  return {colours: seen.size, blue, orange, pixels: d.length / 4};
}"""


def test_train_xor_in_the_browser(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS,
                                                   headless=True, viewport={"width": 1350, "height": 1000})
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server)
            page.wait_for_selector("#dataset-xor", timeout=30_000)
            page.click("#dataset-xor")
            page.wait_for_function("location.hash.includes('dataset=xor')", timeout=30_000)
            page.click("#play")
            page.wait_for_function("parseFloat(document.getElementById('test-loss').textContent) < 0.1",
                                   timeout=120_000, polling=200)
            loss = float(page.text_content("#test-loss"))
            epoch = int(page.text_content("#epoch").replace(",", ""))
            stats = page.evaluate(COUNT_COLOURS)
            page.screenshot(path=str(tmp_path / "playground-xor.png"), full_page=True)
            assert loss < 0.1 and epoch > 0
            assert stats["colours"] > 50, stats  # a smooth two-colour boundary, not a blank canvas
            assert stats["blue"] > stats["pixels"] * 0.1 and stats["orange"] > stats["pixels"] * 0.1, stats

            # a refused setting is shown in the page, and the page keeps working
            page.click("#play")  # pause
            page.evaluate("location.hash = '#lr=-1'")
            page.wait_for_function("document.getElementById('banner-text').textContent.includes('learning rate')",
                                   timeout=10_000)
            assert "error" in page.get_attribute("#banner", "class")
            page.click("#step")
            page.wait_for_function(f"parseInt(document.getElementById('epoch').textContent.replace(/,/g, '')) > "
                                   f"{epoch}", timeout=10_000)
        finally:
            ctx.close()
    assert not errors, errors
    assert (tmp_path / "playground-xor.png").stat().st_size > 10_000

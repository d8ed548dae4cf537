"""End to end in a real browser: Debian's chromium driven by Playwright for Python, against `gradlab playground`
started as a subprocess. Skipped (with the reason) only where /usr/bin/chromium or playwright is missing."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
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


@contextlib.contextmanager
def _serve(*extra: str):
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "gradlab", "playground", "--port", str(port), *extra], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


@pytest.fixture
def server():
    with _serve() as url:
        yield url


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


def _browser(p, tmp_path, extra_args=(), width=1350, height=1000):
    return p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                args=[*ARGS, *extra_args], headless=True,
                                                viewport={"width": width, "height": height})


def _sessions(url: str) -> int:
    return json.loads(urllib.request.urlopen(url + "api/info", timeout=5).read())["sessions"]


ATTACK = """<!DOCTYPE html><html><body><script>
window.events = [];
const ws = new WebSocket("ws://127.0.0.1:PORT/ws");
ws.onopen = () => events.push("open");
ws.onmessage = (e) => events.push("message:" + JSON.parse(e.data).type);
ws.onerror = () => events.push("error");
ws.onclose = (e) => events.push("close:" + e.code);
</script></body></html>"""


def test_a_page_on_another_origin_cannot_use_the_server(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    port = server.rsplit(":", 1)[1].strip("/")
    with sync_api.sync_playwright() as p:
        ctx = _browser(p, tmp_path)
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.route("http://evil.example/**", lambda route: route.fulfill(
                status=200, content_type="text/html", body=ATTACK.replace("PORT", port)))
            page.goto("http://evil.example/")
            page.wait_for_function("window.events.some((e) => e.startsWith('close'))", timeout=20_000)
            events = page.evaluate("window.events")
        finally:
            ctx.close()
    assert "open" not in events and not any(e.startswith("message") for e in events), events
    assert _sessions(server) == 0


def test_a_foreign_host_name_is_refused(server, tmp_path):
    """DNS rebinding: attacker.example resolving to 127.0.0.1 reaches the server, which refuses the name."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    port = server.rsplit(":", 1)[1].strip("/")
    with sync_api.sync_playwright() as p:
        ctx = _browser(p, tmp_path, ["--host-resolver-rules=MAP attacker.example 127.0.0.1"])
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            refused = page.goto(f"http://attacker.example:{port}/api/info")
            assert refused is not None and refused.status == 400
            ok = page.goto(f"http://localhost:{port}/api/info")
            assert ok is not None and ok.status == 200
        finally:
            ctx.close()


def _stable_epoch(page) -> int:
    """Wait until no frame is in flight any more (the epoch shown stops changing), and return it."""
    last, same = None, 0
    while same < 3:
        time.sleep(0.3)
        now = page.text_content("#epoch")
        same = same + 1 if now == last else 0
        last = now
    return int(str(last).replace(",", ""))


def test_csv_upload_export_and_the_snippet_reproduces_the_pages_accuracy(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    rng = np.random.default_rng(3)
    x1, x2 = 1000 + rng.uniform(-50, 50, 300), rng.uniform(-2.5, 2.5, 300)
    label = ((x1 - 1000) / 50 + x2 / 2.5 > 0).astype(int)
    data = tmp_path / "mine.csv"
    rows = zip(x1.tolist(), x2.tolist(), label.tolist())
    data.write_text("mass,height,kind\n" + "\n".join(f"{a!r},{b!r},{c}" for a, b, c in rows))
    with sync_api.sync_playwright() as p:
        ctx = _browser(p, tmp_path)
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.goto(server + "#optimizer=adam&lr=0.03&layers=4")
            page.wait_for_selector("#dataset-circle", timeout=30_000)
            page.set_input_files("#csv-file", str(data))
            page.wait_for_selector("#dataset-csv", timeout=30_000)
            assert "300 points" in page.text_content("#csv-note")
            assert page.is_visible("#csv-link-note") and "not part of the page's link" in page.text_content(
                "#csv-link-note")
            page.click("#play")
            page.wait_for_function("parseFloat(document.getElementById('train-acc').textContent.replace("
                                   "/[^0-9.]/g, '')) >= 95", timeout=120_000, polling=200)
            page.click("#play")
            page.wait_for_selector("#play[aria-pressed=false]")
            epoch = _stable_epoch(page)
            page.click("#step")
            page.wait_for_function(f"document.getElementById('epoch').textContent.replace(/,/g, '') == {epoch + 1}")
            acc = [float(re.sub(r"[^0-9.]", "", page.text_content(f"#{k}-acc") or "")) / 100 for k in ("train", "test")]
            sid = page.evaluate("sessionStorage.getItem('gradlab-playground-session')")
            assert page.get_attribute("#export-onnx", "href") == f"/api/sessions/{sid}/model.onnx"
            for name in ("model.safetensors", "model.py", "data.csv"):
                body = urllib.request.urlopen(f"{server}api/sessions/{sid}/{name}", timeout=10).read()
                (tmp_path / ("playground_model." + name.split(".")[1] if name != "data.csv" else name)).write_bytes(
                    body)
        finally:
            ctx.close()
    assert (tmp_path / "data.csv").read_text().splitlines()[1].startswith(repr(float(x1[0])))
    # run the snippet as a user would, on the raw rows of the file
    script = ("import numpy as np, runpy; ns = runpy.run_path('playground_model.py'); "
              "d = np.loadtxt('data.csv', delimiter=',', skiprows=1); "
              "print(np.mean((ns['predict'](d[:, :2]) > 0.5) == d[:, 2]))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    n_train = 150  # train_ratio 50 of 300 points
    page_acc = (acc[0] * n_train + acc[1] * (300 - n_train)) / 300
    assert float(out.stdout) == pytest.approx(page_acc, abs=0.0006), (out.stdout, acc)
    assert page_acc > 0.9


CONTROLS = """() => Array.from(document.querySelectorAll('button, select, input, a[href], [tabindex]'))
  .filter((el) => el.offsetParent !== null && !el.disabled && el.tabIndex >= 0)
  .map((el) => el.id || el.getAttribute('aria-label') || el.textContent.trim())"""
NAME = """() => { const el = document.activeElement;
  const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
  return [el.id || el.getAttribute('aria-label') || el.textContent.trim(),
          el.getAttribute('aria-label') || (label && label.textContent.trim()) || el.textContent.trim() ||
          el.closest('label')?.textContent.trim() || ''] }"""


def test_keyboard_reaches_every_control(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        ctx = _browser(p, tmp_path)
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.goto(server)
            page.wait_for_selector("#feature-x1sq", timeout=30_000)
            wanted = set(page.evaluate(CONTROLS))
            reached, unnamed = [], []
            for _ in range(len(wanted) + 10):
                page.keyboard.press("Tab")
                key, name = page.evaluate(NAME)
                if key in reached:
                    break
                reached.append(key)
                if not name:
                    unnamed.append(key)
            missing = wanted - set(reached)
            assert not missing, missing
            assert not unnamed, unnamed
            for must in ("dataset-xor", "dataset-spiral", "feature-x1sq", "feature-sinx2", "play", "step", "lr"):
                assert must in reached, must
            # a feature toggle and a data set work from the keyboard
            page.focus("#feature-x1sq")
            page.keyboard.press("Enter")
            page.wait_for_function("location.hash.includes('features=x1%2Cx2%2Cx1sq')", timeout=10_000)
            assert page.get_attribute("#feature-x1sq", "aria-pressed") == "true"
            page.focus("#dataset-xor")
            page.keyboard.press(" ")
            page.wait_for_function("location.hash.includes('dataset=xor')", timeout=10_000)
            assert page.get_attribute("#dataset-xor", "aria-checked") == "true"
        finally:
            ctx.close()


BOX = ("(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); "
       "return [r.left, r.top, r.right, r.bottom]; }")


def test_layout_banners_and_weight_editing(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        ctx = _browser(p, tmp_path, width=1024, height=800)
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.clock.install()
            page.goto(server + "#problem=regression&dataset=plane&lr=10&features=x1,x2,x1sq&layers=4")
            page.wait_for_selector("#dataset-plane", timeout=30_000)
            page.clock.run_for(500)
            # 1024 px: the output (heatmap) sits beside the network, and nothing scrolls sideways
            net, heat = page.evaluate(BOX, "#net"), page.evaluate(BOX, "#heatmap")
            assert heat[0] >= net[2] and heat[1] < net[3], (net, heat)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1024
            # divergence: a warning over the page (not pushing it down), cleared by lowering the learning rate
            top = page.evaluate(BOX, "main")[1]
            page.click("#play")
            page.wait_for_function("document.getElementById('banner-text').textContent.includes('NaN')",
                                   timeout=60_000)
            assert page.evaluate(BOX, "main")[1] == top
            assert page.evaluate("getComputedStyle(document.getElementById('banner')).position") == "fixed"
            page.select_option("#lr", "0.01")
            page.wait_for_function("document.getElementById('banner').classList.contains('hidden')", timeout=10_000)
            # an error banner goes away by itself
            page.evaluate("location.hash = '#lr=-1'")
            page.wait_for_function("document.getElementById('banner-text').textContent.includes('learning rate')",
                                   timeout=10_000)
            page.clock.run_for(9_000)
            page.wait_for_function("document.getElementById('banner').classList.contains('hidden')", timeout=10_000)
            # click a link: its weight can be read and edited
            page.wait_for_function("document.getElementById('test-loss').textContent !== '\\u2013'")
            box = page.evaluate(BOX, "#net")
            scale = (box[2] - box[0]) / 560
            found = page.evaluate("""(s) => { const c = document.getElementById('net');
                for (let x = 100; x < 500; x += 3) for (let y = 10; y < 410; y += 3) {
                  const d = c.getContext('2d').getImageData(x, y, 1, 1).data;
                  if (d[3] > 200 && (d[2] > 150 && d[0] < 100 || d[0] > 200 && d[2] < 100)) return [x, y]; }
                return null; }""", scale)
            assert found is not None
            page.mouse.click(box[0] + found[0] * scale, box[1] + found[1] * scale)
            page.wait_for_selector("#weight-edit:not(.hidden)", timeout=10_000)
            assert page.text_content("#weight-label").startswith("Weight from ")
            page.fill("#weight-value", "2.5")
            page.press("#weight-value", "Enter")
            page.press("#weight-value", "Escape")
            page.wait_for_selector("#weight-edit", state="hidden")
            page.evaluate("document.getElementById('weight-value').value = ''")
            page.mouse.click(box[0] + found[0] * scale, box[1] + found[1] * scale)  # read it back from the server
            page.wait_for_function("document.getElementById('weight-value').value === '2.5'", timeout=10_000)
            # 390 px: one column, nothing wider than the screen
            page.set_viewport_size({"width": 390, "height": 844})
            page.clock.run_for(500)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            heat = page.evaluate(BOX, "#heatmap")
            assert heat[0] >= 0 and heat[2] <= 390
            page.screenshot(path=str(tmp_path / "playground-390.png"), full_page=True)
        finally:
            ctx.close()


def test_a_refused_tab_says_why_and_retries(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with _serve("--max-per-client", "1") as url, sync_api.sync_playwright() as p:
        ctx = _browser(p, tmp_path)
        try:
            first = ctx.pages[0] if ctx.pages else ctx.new_page()
            first.goto(url)
            first.wait_for_selector("#dataset-circle", timeout=30_000)
            second = ctx.new_page()
            second.goto(url)
            second.wait_for_function("document.getElementById('banner-text').textContent.includes('limit per "
                                     "address is 1')", timeout=30_000)
            assert second.is_visible("#reconnect") and second.text_content("#reconnect") == "Retry"
            first.close()  # its session now waits, detached: a retry may replace it
            second.click("#reconnect")
            second.wait_for_selector("#dataset-circle", timeout=30_000)
            second.wait_for_function("document.getElementById('test-loss').textContent !== '\\u2013'",
                                     timeout=30_000)
            assert not second.is_visible("#banner")
        finally:
            ctx.close()

"""Screenshots of `seqgen serve` for the docs, with the shipped models (docs/serve.md).

    python docs/screenshots.py docs/images     # needs chromium, chromedriver and selenium

Starts a real `seqgen serve` on a free loopback port with an empty runs directory (so every
panel uses its domain's shipped model), drives the page in headless Chromium as the browser
tests do, and saves one PNG per panel as OUT/serve-DOMAIN.png.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

PANELS = {
    "handwriting": {"text": "Shipped models write at once", "seed": "2", "bias": "1"},
    "music": {"seed": "2"},
    "speech": {"text": "hello there", "seed": "1"},
    "text": {"prime": "ROMEO:", "seed": "1"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _driver() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(shutil.which("chromium") or shutil.which("chromium-browser"))
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,860", "--autoplay-policy=no-user-gesture-required",
                 "--mute-audio"):
        opts.add_argument(flag)
    return webdriver.Chrome(options=opts, service=Service(str(shutil.which("chromedriver"))))


def _panel(driver: Any, name: str, values: dict[str, str], out: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    tab = f'#tabs button[data-name="{name}"]'
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, tab))
    driver.find_element(By.CSS_SELECTOR, tab).click()
    panel = driver.find_element(By.ID, f"panel-{name}")
    if not panel.find_elements(By.CSS_SELECTOR, "button.go"):
        print(f"{name}: no model to serve ({panel.text.splitlines()[-1:]})")
        return
    for field, value in values.items():
        boxes = panel.find_elements(By.NAME, field)
        if boxes:
            boxes[0].clear()
            boxes[0].send_keys(value)
    panel.find_element(By.CSS_SELECTOR, "button.go").click()
    WebDriverWait(driver, 120).until(
        lambda d: panel.get_attribute("data-state") in ("done", "error"))
    time.sleep(1.5)  # the audio element and images settle
    driver.save_screenshot(str(out / f"serve-{name}.png"))
    print(f"wrote {out / f'serve-{name}.png'} ({panel.get_attribute('data-state')})")


def main(out: Path) -> int:
    port = _free_port()
    runs = tempfile.mkdtemp(prefix="seqgen-empty-runs-")
    env = {**os.environ, "SEQGEN_RUNS": runs, "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "seqgen.cli.main", "serve", "--port",
                               str(port)], env=env)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(base, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        driver = _driver()
        try:
            driver.get(base)
            for name, values in PANELS.items():
                _panel(driver, name, values, out)
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(runs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))

"""Screenshots of `seqgen serve` for the docs, with the shipped models (docs/serve.md).

    python docs/screenshots.py docs/images     # needs chromium, chromedriver and selenium
    python docs/screenshots.py docs/images pad # the writing pad only (writing-pad.png)

Starts a real `seqgen serve` on a free loopback port with an empty runs directory (so every
panel uses its domain's shipped model), drives the page in headless Chromium as the browser
tests do, and saves one PNG per panel as OUT/serve-DOMAIN.png. ``pad`` serves the handwriting
panel alone, writes the writing pad's lines with the synthetic corpus's writer through real
pointer events, saves them as a style (in a temporary styles folder) and saves
OUT/writing-pad.png, then writes a text in that style: OUT/serve-own-hand.png.
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


def _draw(driver: Any, canvas: Any, text: str, writer: int, seed: int) -> None:
    """``text`` written on a pad's canvas by a synthetic writer, with real pointer events."""
    import numpy as np
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    from seqgen_handwriting.synth import make_writers, write_line

    polys = write_line(text, make_writers(8, 0)[writer], np.random.default_rng(seed))
    pts = np.concatenate(polys)
    w, h = canvas.size["width"], canvas.size["height"]
    s = min((w - 40) / np.ptp(pts[:, 0]), (h - 24) / np.ptp(pts[:, 1]), 2.2)
    builder = ActionBuilder(driver, mouse=PointerInput("pen", "pen"), duration=4)
    act = builder.pointer_action
    for p in polys:
        xy = [(int(20 + (x - pts[:, 0].min()) * s - w / 2),
               int(h - 18 - (y - pts[:, 1].min()) * s - h / 2)) for x, y in p]
        act.move_to(canvas, *xy[0])
        act.pointer_down()
        for x, y in xy[1:]:
            act.move_to(canvas, x, y)
        act.pointer_up()
    builder.perform()


def _pad(driver: Any, out: Path) -> None:
    """The writing pad, its lines written and saved as a style; then a text in that hand."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(1280, 1180)
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "pad-open"))
    panel = driver.find_element(By.ID, "panel-handwriting")
    panel.find_element(By.ID, "pad-open").click()
    pad = panel.find_element(By.ID, "hw-pad")
    texts = pad.find_elements(By.CSS_SELECTOR, ".pad-text")
    for k, canvas in enumerate(pad.find_elements(By.CSS_SELECTOR, "canvas.pad-canvas")):
        _draw(driver, canvas, texts[k].get_attribute("value"), 5, k)
    pad.find_element(By.ID, "pad-name").send_keys("ann")
    pad.find_element(By.ID, "pad-save").click()
    WebDriverWait(driver, 60).until(lambda d: "saved" in d.find_element(By.ID, "pad-status").text)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(out / "writing-pad.png"))
    print(f"wrote {out / 'writing-pad.png'}")
    box = panel.find_element(By.NAME, "text")
    box.clear()
    box.send_keys("Dear Ann, thank you for the letter.\nSee you on Monday at 10.")
    for name, value in (("seed", "1"),):
        panel.find_element(By.NAME, name).send_keys(value)
    panel.find_element(By.CSS_SELECTOR, "button.go").click()
    WebDriverWait(driver, 180).until(
        lambda d: panel.get_attribute("data-state") in ("done", "error"))
    driver.set_window_size(1280, 860)
    driver.save_screenshot(str(out / "serve-own-hand.png"))
    print(f"wrote {out / 'serve-own-hand.png'} ({panel.get_attribute('data-state')})")


def main(out: Path, only: str = "") -> int:
    port = _free_port()
    runs = tempfile.mkdtemp(prefix="seqgen-empty-runs-")
    styles = tempfile.mkdtemp(prefix="seqgen-styles-")
    env = {**os.environ, "SEQGEN_RUNS": runs, "OMP_NUM_THREADS": "1", "SEQGEN_STYLES": styles}
    if only == "pad":
        env["SEQGEN_LOAD_PLUGINS"] = "handwriting"
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
            if only == "pad":
                _pad(driver, out)
            for name, values in PANELS.items() if only != "pad" else ():
                _panel(driver, name, values, out)
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(runs, ignore_errors=True)
        shutil.rmtree(styles, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"),
                          sys.argv[2] if len(sys.argv) > 2 else ""))

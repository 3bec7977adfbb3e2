"""The page in a real browser: headless Chromium driven by selenium writes a line of
handwriting, composes and plays music, harmonizes a tune in four coloured voices, speaks a
sentence and streams text, and takes a screenshot of each panel. Outside CI it skips when no
Chromium or chromedriver is found; under CI=true it must run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import panels_of, running, voices_panel

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
DRIVER = shutil.which("chromedriver")


def _why_not() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if CHROMIUM is None or DRIVER is None:
        return "no Chromium or chromedriver (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    why = _why_not()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,860", "--autoplay-policy=no-user-gesture-required",
                 "--mute-audio"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service(str(DRIVER)))
    driver.set_script_timeout(60)
    with running(panels_of(tmp_path_factory.mktemp("serve-runs"))) as base:
        driver.get(base + "/")
        yield driver
    driver.quit()


def _shot(driver: Any, tmp_path: Path, name: str) -> Path:
    """A screenshot in the test's folder (and in $SEQGEN_SCREENSHOTS when set, for the docs)."""
    out = tmp_path / f"serve-{name}.png"
    driver.save_screenshot(str(out))
    assert out.read_bytes()[:4] == b"\x89PNG"
    if os.environ.get("SEQGEN_SCREENSHOTS"):
        shutil.copy(out, Path(os.environ["SEQGEN_SCREENSHOTS"]) / out.name)
    return out


def _run_panel(driver: Any, name: str, values: dict[str, str]) -> Any:
    """Open the panel's tab, fill its fields, press its button, wait until the sample is in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    tab = f'#tabs button[data-name="{name}"]'  # the page builds its tabs once it has loaded
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, tab))
    driver.find_element(By.CSS_SELECTOR, tab).click()
    panel = driver.find_element(By.ID, f"panel-{name}")
    for field, value in values.items():
        box = panel.find_element(By.NAME, field)
        box.clear()
        box.send_keys(value)
    panel.find_element(By.CSS_SELECTOR, "button.go").click()
    WebDriverWait(driver, 60).until(
        lambda d: panel.get_attribute("data-state") in ("done", "error"))
    status = panel.find_element(By.CSS_SELECTOR, ".status").text
    assert panel.get_attribute("data-state") == "done", status
    return panel


def test_handwriting_is_drawn_as_svg_paths(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    panel = _run_panel(browser, "handwriting", {"text": "hi", "seed": "1"})
    paths = panel.find_elements(By.CSS_SELECTOR, "#hw-svg path")
    assert paths and all(p.get_attribute("d").startswith("M") for p in paths)
    assert "points" in panel.find_element(By.CSS_SELECTOR, ".status").text
    labels = [b.text for b in panel.find_elements(By.CSS_SELECTOR, ".downloads button")]
    assert {"SVG", "PNG", "INKML"} <= set(labels)
    _shot(browser, tmp_path, "handwriting")


def test_music_shows_a_piano_roll_and_plays(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    panel = _run_panel(browser, "music", {"seed": "2"})
    assert panel.find_elements(By.CSS_SELECTOR, "#roll rect.note")
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "return window.seqgen.audioStarted && window.seqgen.audioState() === 'running'"))
    assert browser.execute_script("return window.seqgen.notesScheduled") > 0
    _shot(browser, tmp_path, "music")


def test_music_harmonizes_a_tune_in_four_voices(browser: Any, tmp_path: Path,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    """A four-voice model's panel (a server of its own): choose a shipped tune, Harmonize, and
    the roll shows the four voices in four colours, the soprano drawn last, and plays."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    back = browser.current_url
    try:
        with running([voices_panel(tmp_path_factory.mktemp("serve-voices"))]) as base:
            browser.get(base + "/#music")
            WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "melody"))
            panel = browser.find_element(By.ID, "panel-music")
            go = panel.find_element(By.CSS_SELECTOR, "button.go")
            assert go.text == "Compose" and panel.find_element(By.ID, "melody-file")
            knob = panel.find_element(By.NAME, "temperature")
            assert knob.get_attribute("value") == "0.8"  # the model's own, free
            Select(panel.find_element(By.ID, "melody")).select_by_value("old-hundredth")
            assert go.text == "Harmonize"
            assert knob.get_attribute("value") == "0.6"  # and its own for harmonizing
            assert not panel.find_element(By.NAME, "primer").is_enabled()  # the tune is all
            go.click()
            WebDriverWait(browser, 60).until(
                lambda d: panel.get_attribute("data-state") in ("done", "error"))
            status = panel.find_element(By.CSS_SELECTOR, ".status").text
            assert panel.get_attribute("data-state") == "done", status
            assert "old-hundredth harmonized" in status
            fills, voices = browser.execute_script(
                "const r = [...document.querySelectorAll('#roll rect.note')];"
                "return [r.map((x) => x.getAttribute('fill')),"
                "        r.map((x) => Number(x.getAttribute('class').slice(-1)))];")
            assert len(set(fills)) == 4 and len(fills) == len(voices)
            assert voices == sorted(voices, reverse=True)  # bass first, soprano on top
            legend = panel.find_element(By.CSS_SELECTOR, ".legend.voices").text.split()
            assert legend == ["S", "A", "T", "B"]
            WebDriverWait(browser, 20).until(lambda d: d.execute_script(
                "return window.seqgen.audioStarted && window.seqgen.audioState() === 'running'"))
            _shot(browser, tmp_path, "music-harmonize")
            # an uploaded file: the page sends its bytes (base64); choosing it clears the select
            import pretty_midi

            pm = pretty_midi.PrettyMIDI(initial_tempo=100)
            pm.instruments.append(pretty_midi.Instrument(0))
            pm.instruments[0].notes = [pretty_midi.Note(80, p, i * 0.6, i * 0.6 + 0.6)
                                       for i, p in enumerate([72, 74, 76, 77, 79])]
            pm.write(str(tmp_path / "tune.mid"))
            panel.find_element(By.ID, "melody-file").send_keys(str(tmp_path / "tune.mid"))
            assert panel.find_element(By.ID, "melody").get_attribute("value") == ""
            assert go.text == "Harmonize"
            go.click()
            WebDriverWait(browser, 60).until(lambda d: "tune.mid harmonized" in panel.find_element(
                By.CSS_SELECTOR, ".status").text)
            assert len(panel.find_elements(By.CSS_SELECTOR, "#roll rect.note.v0")) == 5
    finally:
        browser.get(back)  # the other tests' server


def test_speech_plays_a_wav_and_shows_the_spectrogram(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    panel = _run_panel(browser, "speech", {"text": "hi there", "seed": "1"})
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const a = document.getElementById('speech-audio'); return a && a.duration > 0"))
    WebDriverWait(browser, 30).until(lambda d: panel.find_elements(By.CSS_SELECTOR, "img"))
    _shot(browser, tmp_path, "speech")


def test_text_streams_into_the_page(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    panel = _run_panel(browser, "text", {"prime": "All:", "seed": "3"})
    assert panel.find_element(By.ID, "text-out").text.startswith("All:")
    _shot(browser, tmp_path, "text")


def _draw(driver: Any, canvas: Any, text: str, pointer: str = "mouse", seed: int = 0) -> int:
    """Write ``text`` on a pad's canvas with real pointer events (WebDriver pointer actions of
    a mouse or a pen): the project's synthetic writer's strokes, scaled into the canvas."""
    import numpy as np
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    from seqgen_handwriting.synth import make_writers, write_line

    polys = write_line(text, make_writers(2, 0)[0], np.random.default_rng(seed))
    pts = np.concatenate(polys)
    w, h = canvas.size["width"], canvas.size["height"]
    s = min((w - 30) / max(np.ptp(pts[:, 0]), 1e-6), (h - 20) / max(np.ptp(pts[:, 1]), 1e-6))
    builder = ActionBuilder(driver, mouse=PointerInput(pointer, pointer), duration=0)
    act = builder.pointer_action
    for p in polys:
        xy = [(int(15 + (x - pts[:, 0].min()) * s - w / 2),
               int(10 + (pts[:, 1].max() - y) * s - h / 2)) for x, y in p[::2]]
        act.move_to(canvas, *xy[0])
        act.pointer_down()
        for x, y in xy[1:]:
            act.move_to(canvas, x, y)
        act.pointer_up()
    builder.perform()
    return len(polys)


def test_the_writing_pad_saves_a_style_and_writes_with_it(browser: Any, tmp_path: Path) -> None:
    """Write two of the pad's lines (a mouse, then a pen), save them as a style: the style is
    chosen in the Style menu, its state beside it goes from tuning to tuned, and a text of two
    lines is written with it, a line each."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    tab = '#tabs button[data-name="handwriting"]'
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, tab))
    browser.find_element(By.CSS_SELECTOR, tab).click()
    panel = browser.find_element(By.ID, "panel-handwriting")
    panel.find_element(By.ID, "pad-open").click()
    pad = panel.find_element(By.ID, "hw-pad")
    canvases = pad.find_elements(By.CSS_SELECTOR, "canvas.pad-canvas")
    texts = [t.get_attribute("value") for t in pad.find_elements(By.CSS_SELECTOR, ".pad-text")]
    assert len(canvases) == len(texts) >= 2 and all(texts)
    assert canvases[0].value_of_css_property("touch-action") == "none"
    for k, kind in enumerate(("mouse", "pen")):
        assert _draw(browser, canvases[k], texts[k], kind, seed=k) > 0
    pad.find_element(By.ID, "pad-name").send_keys("my_hand")
    _shot(browser, tmp_path, "writing-pad")
    pad.find_element(By.ID, "pad-save").click()
    WebDriverWait(browser, 30).until(
        lambda d: "saved" in d.find_element(By.ID, "pad-status").text)
    status = pad.find_element(By.ID, "pad-status")
    assert "error" not in (status.get_attribute("class") or ""), status.text
    files = sorted((tmp_path / "styles/handwriting/my_hand").glob("*.inkml"))
    assert len(files) == 2 and '<channel name="T"' in files[0].read_text()
    style = Select(panel.find_element(By.ID, "hw-style"))
    assert style.first_selected_option.get_attribute("value") == "my_hand"
    # beside Style, its state: fine-tuned on in the background, primed with the lines meanwhile
    note = panel.find_element(By.ID, "hw-style-state")
    assert note.text in ("tuning\u2026", "tuned"), note.text
    WebDriverWait(browser, 120).until(lambda d: note.text == "tuned")  # the page asks again
    box = panel.find_element(By.NAME, "text")
    box.clear()
    box.send_keys("hi\nhi")
    panel.find_element(By.CSS_SELECTOR, "button.go").click()
    WebDriverWait(browser, 60).until(
        lambda d: panel.get_attribute("data-state") in ("done", "error"))
    said = panel.find_element(By.CSS_SELECTOR, ".status").text
    assert panel.get_attribute("data-state") == "done", said
    assert "2 lines" in said
    lines = panel.find_elements(By.CSS_SELECTOR, "#hw-svg g.line")
    assert len(lines) == 2 and all(g.find_elements(By.CSS_SELECTOR, "path") for g in lines)

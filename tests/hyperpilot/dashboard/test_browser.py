"""The dashboard in headless Chromium (Debian's package): the page loads with no JavaScript
error, every plot has data, a trial finished during the test appears without a reload, and a
person's answer given in the page reaches the store.

``HYPERPILOT_SCREENSHOTS=docs/dashboard`` also keeps the screenshots there (the README's)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("websocket")

import hyperpilot as hp  # noqa: E402
from hyperpilot.storage import Storage  # noqa: E402

from .browser import CHROMIUM, Browser  # noqa: E402
from .demo import FID, SPACE, curvy, make_store  # noqa: E402
from .server import running  # noqa: E402

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium not installed")


def _keep(shot: Path) -> None:
    folder = os.environ.get("HYPERPILOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / shot.name)


def test_the_page_in_chromium_updates_live_and_answers(tmp_path: Path) -> None:
    path = make_store(tmp_path / "demo.sqlite", budget=6, bo_trials=11)
    st = Storage(path)
    sid = next(s["study_id"] for s in st.studies() if s["name"] == "hb")
    rid = st.add_request(sid, 30, 9.0, "stop", "curve rule: P(beat incumbent) = 0.01",
                         "trial 30 at budget 9: ... (the digest a person reads)")
    st.close()
    browser = Browser(tmp_path / "profile")
    try:
        with running([path], allow_actions=True, refresh_s=0.3) as p:
            url = p.url.replace("localhost", "127.0.0.1")
            browser.send("Page.navigate", url=url)
            browser.wait_for("window.hp && window.hp.renders > 0", 60)
            browser.eval("window.marker = 42")
            points = browser.eval("window.hp.points")
            assert all(points[k] > 0 for k in ("incumbent", "rungs", "curves", "parcoords",
                                               "schedule")), points
            assert browser.eval("document.querySelectorAll('#incumbent .main-svg').length") > 0
            browser.screenshot(tmp_path / "dashboard-hb.png")
            before = browser.eval("window.hp.nTold")
            hp.Study(SPACE, FID, "hyperband:stop", seed=3, storage=path, name="hb").run(
                curvy, budget=8)
            browser.wait_for(f"window.hp.nTold > {before}", 30)
            assert browser.eval("window.marker") == 42, "updated without a reload"
            browser.eval("document.querySelector('button[data-action=continue]').click()")
            browser.wait_for("document.getElementById('requests').textContent"
                             ".includes('answered: continue')", 30)
            browser.eval("document.getElementById('study').value = '1';"
                         "document.getElementById('study').dispatchEvent(new Event('change'))")
            browser.wait_for("window.hp.points.predictions > 0", 30)
            browser.eval("document.querySelector('#compare-list input[value=\"1\"]').click()")
            browser.wait_for("document.querySelectorAll('#compare .scatterlayer .trace')"
                             ".length == 2", 30)
            time.sleep(0.5)
            browser.screenshot(tmp_path / "dashboard-bo.png")
        assert browser.errors() == []
    finally:
        browser.close()
    st = Storage(path, read_only=True)
    assert next(r for r in st.requests() if r["request_id"] == rid)["answer"] == "continue"
    st.close()
    for name in ("dashboard-hb.png", "dashboard-bo.png"):
        assert (tmp_path / name).stat().st_size > 20_000
        _keep(tmp_path / name)

"""The report in a real browser: headless Chromium renders it, and the page asks the network for nothing.

Chromium is a Debian package that ``.ci/run`` installs; in CI a missing browser fails this test
instead of skipping it. On a developer's machine without Chromium the tests are skipped, saying how
to install it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from sim.cli import main
from sim.reports.browser import INSTALL_HINT, chromium, headless
from tests.test_report import SMALL, parse

SECTIONS = ("The answer", "Recruitment", "Timeline", "Power", "Survival", "Assumptions and their sources")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    if chromium() is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the report in a real browser: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    out = tmp_path_factory.mktemp("browser") / "report"
    assert main(["report", "base", *SMALL, "--out", str(out)]) == 0
    return out / "index.html"


def test_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    headless(page, f"--screenshot={shot}", "--window-size=1200,2600")
    pixels = image.imread(shot)[..., :3]
    ink = (pixels.mean(axis=2) < 0.9).mean()
    assert pixels.shape[:2] == (2600, 1200)
    assert 0.02 < ink < 0.6, f"share of non-white pixels {ink:.3f}"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # text, figures and lights, not a flat page


def test_rendered_page_has_the_headings_and_figures(page: Path) -> None:
    dom = headless(page, "--dump-dom").stdout
    rendered = page.with_name("rendered.html")
    rendered.write_text(dom, encoding="utf-8")
    seen = parse(rendered)
    for heading in SECTIONS:
        assert heading in seen.headings
    assert len(seen.images) == len(list(page.parent.glob("figures/*.svg")))
    assert len(seen.lights) == 5


def test_the_page_requests_nothing_from_the_network(page: Path, tmp_path: Path) -> None:
    log = tmp_path / "net.json"
    headless(page, f"--log-net-log={log}", "--dump-dom")
    events = json.loads(log.read_text())
    start_job = events["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    # Requests the page makes are isolated under its file:// origin; Chromium's own service calls are not.
    asked = [
        e["params"]["url"]
        for e in events["events"]
        if e["type"] == start_job
        and e.get("params", {}).get("network_isolation_key", "").startswith("file://")
        and not e["params"]["url"].startswith(("file:", "data:"))
    ]
    assert asked == []


def test_the_net_log_check_sees_a_request_when_there_is_one(tmp_path: Path, page: Path) -> None:
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<html><body><img src="http://127.0.0.1:9/x.png" alt="x"></body></html>')
    log = tmp_path / "net.json"
    headless(leaky, f"--log-net-log={log}", "--dump-dom")
    assert "http://127.0.0.1:9/x.png" in log.read_text()


def test_pdf_is_printed(tmp_path: Path, page: Path) -> None:
    out = tmp_path / "printed"
    runs = [str(page.parent / "runs" / "base")]
    assert main(["report", "--from", *runs, "--out", str(out), "--pdf"]) == 0
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000

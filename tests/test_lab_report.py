"""The report: self-contained HTML whose plots a real browser (headless Chromium) displays,
and sentences that state the run's own numbers."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from paramlab.lab.demo import demo
from paramlab.lab.store import RunStore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PROBE = """<script>
window.addEventListener('load', () => {
  const ok = [...document.images].map(
    i => i.complete && i.naturalWidth > 100 && i.getBoundingClientRect().width > 100);
  document.body.setAttribute('data-images', ok.join(','));
});
</script></body>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo(tmp_path_factory.mktemp("demo"), level="quick", quiet=True)


def test_report_is_self_contained_and_answers_with_numbers(report: Path) -> None:
    page = report.read_text()
    images = page.count('src="data:image/png;base64,')
    assert images >= 4 and images == len(list((report.parent / "plots").glob("*.png")))
    assert "http://" not in page and "https://" not in page and "<script" not in page
    rows = RunStore.open(report.parent / "sweep").rows()
    largest = max(rows, key=lambda r: r["params"])
    assert f"has {largest['params']:,} parameters" in page
    assert f"{len(rows)} networks were trained on {rows[0]['observations']:,} observations" in page
    assert re.search(r"validation losses are within \d+\.\d% of each other", page)
    for name in ("val_loss_vs_params", "train_vs_val", "learning_curves", "refit_spread"):
        assert (report.parent / "plots" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed "
                    "(.ci/run installs it)")
def test_every_plot_is_visible_in_chromium(report: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE))
    dom = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    match = re.search(r'data-images="([^"]*)"', dom)
    assert match, "the page did not finish loading"
    shown = match.group(1).split(",")
    assert len(shown) >= 4 and all(flag == "true" for flag in shown)

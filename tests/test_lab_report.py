"""The report: self-contained HTML whose plots a real browser (headless Chromium) displays,
that opens with the answer, and sentences that state the run's own numbers."""

import os
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
  document.body.setAttribute('data-first', document.querySelector('section').id);
  console.error('probe-marker');
});
</script></body>"""
BROWSER = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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
    done = subprocess.run(
        [str(CHROMIUM), *BROWSER, f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom",
         probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    dom = done.stdout
    match = re.search(r'data-images="([^"]*)"', dom)
    assert match, "the page did not finish loading"
    shown = match.group(1).split(",")
    assert len(shown) >= 4 and all(flag == "true" for flag in shown)
    assert 'data-first="summary"' in dom  # the summary is the first section
    # console messages reach stderr (the probe's own marker proves it); the page adds none
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert any("probe-marker" in line for line in console)
    assert [line for line in console if "probe-marker" not in line] == []


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")
def test_screenshot_of_the_top_of_the_page(report: Path, tmp_path: Path) -> None:
    """Saved as a test artifact: under $PARAMLAB_ARTIFACTS if set, else the test's tmp dir."""
    folder = Path(os.environ.get("PARAMLAB_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "report-top.png"
    subprocess.run(
        [str(CHROMIUM), *BROWSER, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1100,1400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    print(f"screenshot of the report's top: {shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_page_opens_with_the_answer(report: Path) -> None:
    page = report.read_text()
    assert page.index("<section id=summary>") == page.index("<section")
    anchors = re.findall(r"<section id=([\w-]+)>", page)[1:]
    links = set(re.findall(r"href='#([\w-]+)'", page))
    assert anchors and set(anchors) <= links and links <= set(anchors)
    summary = page[page.index("<section id=summary>"):page.index("</section>")]
    claims = re.findall(r"<li>(.*?) <a href=", summary.split("<nav>")[0])
    assert 3 <= len(claims) <= 5
    rows = RunStore.open(report.parent / "sweep").rows()
    largest = max(rows, key=lambda r: r["params"])
    assert f"{largest['spec']}, has {largest['params']:,} parameters" in claims[0]
    for anchor in anchors:  # each section starts with its one-line finding
        assert re.search(rf"<section id={anchor}><h2>[^<]*</h2><p class=finding>\S", page)


def test_numbers_are_for_people(report: Path) -> None:
    """Numeric cells and sentences: no exponent notation (ids such as ridge-1e-06 are
    names); values below float noise read '< 1e-12'."""
    page = report.read_text()
    shown = re.findall(r"<td class=n>([^<]*)</td>", page) + re.findall(r"<p>(.*?)</p>", page)
    assert "&lt; 1e-12" in shown  # the polynomial's exact fits: residuals below float noise
    exponent = re.compile(r"\d\.?\d*e[+-]\d\d")
    raw = [t for t in shown if exponent.search(re.sub(r"(&lt; |&gt; −)1e-12", "", t))]
    assert raw == [], "raw floats on the page"
    assert "<details>" in page and page.count("<details>") >= page.count("<table>") - 1

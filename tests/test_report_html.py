"""The complaint log's HTML page: self-contained, accessible, and rendered by a real headless browser.

The page is rendered by Debian's ``chromium`` (headless, no network, a fresh
profile), which must log no console message at all (the page runs no script, so
anything logged is an error: a blocked fetch, a broken SVG) and take a screenshot
that is not blank. A control page proves the harness does see console messages.
Without chromium the browser tests skip with the reason, unless
``DEESCALATE_REQUIRE_CHROMIUM=1`` (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from deescalate.report import Report, format_html, report_transcripts, write_sample_corpus

NOW = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = write_sample_corpus(tmp_path_factory.mktemp("corpus"), 300, seed=11)
    return format_html(report_transcripts([str(folder)], now=NOW, jobs=1))


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("DEESCALATE_REQUIRE_CHROMIUM") == "1":
        pytest.fail("DEESCALATE_REQUIRE_CHROMIUM=1 but no chromium is installed (apt-get install chromium)")
    pytest.skip("the browser tests need Debian's chromium (apt-get install chromium)")


def render(html_path: Path, tmp_path: Path, height: int = 2400) -> tuple[list[str], Path]:
    """The console messages the page logged, and its screenshot (1280 px wide, a laptop's screen)."""
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    result = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
         f"--window-size=1280,{height}", html_path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert shot.exists(), result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return console, shot


def test_the_harness_sees_console_messages(tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'\"></head><body><script>console.error('boom')</script>"
        '<img src="https://example.invalid/x.png" alt=""></body></html>'
    )
    console, _ = render(control, tmp_path, 400)
    assert any('"boom"' in line for line in console)
    assert any("Content Security Policy" in line for line in console)  # the fetch was blocked


def test_the_page_renders_without_console_messages_and_is_not_blank(page: str, tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "log.html"
    path.write_text(page, encoding="utf-8")
    console, shot = render(path, tmp_path)
    assert console == []
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, bars and lines, not one flat colour
    background = max(colours)[1]
    ink = sum(count for count, colour in colours if colour != background)
    assert ink > 0.10 * 1280 * 2400
    # The charts' own colours are drawn: the violations' red and the resolved green.
    present = {colour for _, colour in colours}
    assert (0xB2, 0x18, 0x2B) in present and (0x1B, 0x78, 0x37) in present


def test_the_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page and "<link" not in page and "<img" not in page and "@import" not in page
    # The only URLs are XML namespaces, which are names, never fetched.
    urls = set(re.findall(r"https?://[^\s\"')<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page)


def test_every_chart_is_titled_described_and_followed_by_its_table(page: str) -> None:
    charts = re.findall(r"<svg[^>]*>", page)
    assert len(charts) == 5  # outcomes, times, rules, weeks, root causes
    for tag in charts:
        assert 'role="img"' in tag and "aria-labelledby=" in tag
        name = re.search(r'aria-labelledby="([\w-]+)-title', tag)
        assert name is not None
        assert f'<title id="{name.group(1)}-title">' in page and f'<desc id="{name.group(1)}-desc">' in page
    for figure in re.findall(r"</figure>(.{0,20})", page, re.S):
        assert figure.startswith("<table>")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids are unique across the inlined charts"


def test_the_same_report_makes_the_same_page(page: str, tmp_path: Path) -> None:
    folder = write_sample_corpus(tmp_path / "again", 300, seed=11)
    assert format_html(report_transcripts([str(folder)], now=NOW, jobs=2)) == page


def test_an_empty_report_is_a_page_without_charts(tmp_path: Path) -> None:
    page = format_html(Report())
    assert "<svg" not in page and "0</span><span class=\"label\">interactions" in page
    path = tmp_path / "empty.html"
    path.write_text(page, encoding="utf-8")
    console, _ = render(path, tmp_path, 800)
    assert console == []


def test_text_in_the_page_is_escaped(tmp_path: Path) -> None:
    lines = [
        '{"type": "interaction_opened", "at": "2026-03-02T09:00:00Z", "interaction_id": "X"}',
        '{"type": "facts_established", "at": "2026-03-02T09:01:00Z", "fault": "company", '
        '"root_cause": "<script>alert(1)</script> & more"}',
    ]
    for n in (1, 2):
        (tmp_path / f"x{n}.jsonl").write_text("\n".join(lines) + "\n")
    page = format_html(report_transcripts([str(tmp_path)]))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page

"""The HTML report against a corpus of XSS payloads, opened in a real browser (Debian's
chromium through playwright's Python API, never `playwright install`): no payload runs."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest

from ..conftest import require, run_json

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
CALL = "pwned"  # every payload calls window.pwned('<id>') if it ever runs

_HTML = {
    "script": f"<script>{CALL}('script')</script>",
    "img-onerror": f"<img src=x onerror=\"{CALL}('img-onerror')\">",
    "svg-onload": f"<svg onload=\"{CALL}('svg-onload')\"><circle r=4/></svg>",
    "body-onload": f"<body onload=\"{CALL}('body-onload')\">x</body>",
    "details-ontoggle": f"<details open ontoggle=\"{CALL}('details')\">x</details>",
    "iframe-srcdoc": f"<iframe srcdoc=\"<script>parent.{CALL}('srcdoc')</script>\"></iframe>",
    "iframe-data": "<iframe src=\"data:text/html,<script>parent.pwned('iframe-data')"
                   "</script>\"></iframe>",
    "javascript-link": f"<a id=jslink href=\"javascript:{CALL}('javascript-link')\">click</a>",
    "data-link": "<a id=datalink href=\"data:text/html,<script>opener.pwned('data-link')"
                 "</script>\">click</a>",
    "object": f"<object data=\"javascript:{CALL}('object')\"></object>",
    "meta-refresh": f"<meta http-equiv=refresh content=\"0;url=javascript:{CALL}('meta')\">",
    "style-expression": f"<div style=\"background:url(javascript:{CALL}('style'))\">x</div>",
    "form-action": f"<form action=\"javascript:{CALL}('form')\"><button id=btn>go</button></form>",
}
_SVG = (f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"{CALL}('svg-output')\">"
        f"<script>{CALL}('svg-script')</script></svg>")


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    evil = base64.b64encode(_SVG.encode()).decode()
    markdown = nbformat.v4.new_markdown_cell(
        f"# report\n<script>{CALL}('markdown-script')</script>\n"
        f"[link](javascript:{CALL}('markdown-link'))\n"
        f"<img src=x onerror=\"{CALL}('markdown-img')\">\n![a](attachment:evil.svg)")
    markdown["attachments"] = {"evil.svg": {"image/svg+xml": evil}}
    code = ["from IPython.display import display, HTML, SVG, Javascript, Markdown",
            *[f"display(HTML({payload!r}))" for payload in _HTML.values()],
            f"display(SVG({_SVG!r}))",
            f"display(Javascript(\"{CALL}('javascript-output')\"))",
            f"display(Markdown(\"<script>{CALL}('md-output')</script>[x](javascript:{CALL}"
            f"('md-output-link'))\"))",
            f"display({{'text/html': \"<script>{CALL}('raw-html')</script>\"}}, raw=True)"]
    nb.cells = [markdown, nbformat.v4.new_code_cell("\n".join(code))]
    nbformat.write(nb, path)


def _report(project_dir: Path, notebook: str) -> Path:
    code, record = run_json(project_dir, "run", notebook)
    assert code == 0, record
    return Path(next(a["path"] for a in record["artifacts"] if a["name"] == "report.html"))


def _unsafe_elements(page: object, report: Path | None) -> list[str]:
    """Elements that could run code: scripts, frames, handlers, script URLs."""
    if report is not None:
        page.goto(report.as_uri())  # type: ignore[attr-defined]
    found: list[str] = page.evaluate(  # type: ignore[attr-defined]
        "() => Array.from(document.querySelectorAll("
        "'script, iframe, object, embed, meta[http-equiv], form, [onerror], [onload], "
        "[ontoggle], a[href^=\"javascript:\"], a[href^=\"data:\"]')).map(e => e.outerHTML)")
    return found


@pytest.mark.case("the HTML report against XSS payloads (chromium)")
def test_no_payload_runs_in_the_report(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    require(CHROMIUM.is_file(), "Debian's chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    _notebook(project_dir / "xss.ipynb")
    report, baseline = _report(project_dir, "xss.ipynb"), _report(project_dir, "ok.ipynb")
    ran: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            template = _unsafe_elements(browser.new_page(), baseline)  # the template's own
            page = browser.new_page()
            page.expose_function(CALL, lambda what: ran.append(str(what)))
            page.on("dialog", lambda dialog: (ran.append(f"dialog: {dialog.message}"),
                                              dialog.dismiss()))
            page.goto(report.as_uri())
            page.wait_for_timeout(1500)
            for link in page.query_selector_all("a, button"):
                try:
                    link.click(timeout=1000)
                except Exception:  # a link the sanitizer left without a target
                    continue
                page.wait_for_timeout(200)
            page.wait_for_timeout(1000)
            survivors = [e for e in _unsafe_elements(page, None) if e not in template]
            frames = len(page.frames)
        finally:
            browser.close()
    seen(f"{len(_HTML) + 8} payloads, {len(ran)} ran, {len(survivors)} unsafe elements left")
    assert ran == []
    assert frames == 1
    assert survivors == []
    assert "report" in report.read_text()

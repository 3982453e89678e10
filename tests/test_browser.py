"""End to end: `python app.py` on a free loopback port, driven by headless Debian Chromium at a
1366-wide desktop and a 390-wide phone, in the light and the dark theme.

Needs /usr/bin/chromium and fonts-noto-cjk (scripts/system-deps.sh installs both; CI runs it).
Playwright is only the driver here: it never downloads a browser. Screenshots go to test-output/;
with RAG_SCREENSHOTS=docs/screenshots the gallery of main states is written there as well.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from rag.surfaces.api_process import free_port

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output"
GALLERY = Path(os.environ["RAG_SCREENSHOTS"]) if os.environ.get("RAG_SCREENSHOTS") else None
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
START_TIMEOUT = 120  # seconds for the app to load (or build) the index and listen
ANSWER_TIMEOUT = 30_000  # ms for one reply
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
SECOND_DOC = ROOT / "tests" / "fixtures" / "formats" / "division-table.docx"
ADMIN = ("admin", "adm1n-pass")
POISON = "<script>alert(1)</script> **bold** [link](http://x) <img src=x onerror=alert(2)>"
UI_WORDS = {"Word", "Markdown", "Shift", "PDF", "CSV", "utf"} | {  # and the file types an upload takes
    "docx", "htm", "html", "markdown", "pdf", "text", "txt"}


# -- the app and the browser ------------------------------------------------------------------------
def http_status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@contextmanager
def start_app(folder: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"app-{port}.log"
    log = log_path.open("wb")
    cmd = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port),
           "--feedback", str(folder / "feedback" / "feedback.jsonl"), *extra]
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if http_status(url)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url} within {START_TIMEOUT}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def corpus_copy(folder: Path, *extra_files: Path) -> tuple[Path, Path]:
    """A corpus of the seed document (and ``extra_files``) with an index folder that reuses the
    main index's embedding cache, so that unchanged passages are not embedded again."""
    corpus, index = folder / "corpus", folder / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    for f in [*sorted((ROOT / "corpus").iterdir()), *extra_files]:
        if f.is_file():
            shutil.copy(f, corpus / f.name)
    if (ROOT / "index" / "cache").is_dir() and not index.exists():
        shutil.copytree(ROOT / "index" / "cache", index / "cache")
    return corpus, index


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh (it installs chromium and fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # with the scrollbars a desktop browser shows (headless hides them), so that a page that starts
        # to scroll changes the layout as it would for a user
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                              ignore_default_args=["--hide-scrollbars"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The web chat on the seed corpus, no login (loopback): (url, its folder)."""
    folder = tmp_path_factory.mktemp("app")
    with start_app(folder) as url:
        yield url, folder


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The web chat with an admin login (--auth) and a reader login (role file), on a copy of the corpus."""
    from rag.surfaces.roles import hash_password

    folder = tmp_path_factory.mktemp("admin")
    corpus, index = corpus_copy(folder)
    roles = folder / "roles.toml"
    roles.write_text(f'[[login]]\nuser = "clerk"\npassword = "{hash_password("clerk-pass")}"\nrole = "reader"\n', "utf-8")
    with start_app(folder, "--corpus", str(corpus), "--index", str(index), "--roles", str(roles),
                   env={"RAG_AUTH": ":".join(ADMIN)}) as url:
        yield url, folder


def open_page(browser, url: str, size: str = "desktop", theme: str = "light", login: tuple[str, str] | None = None):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", color_scheme=theme,
                                  permissions=["clipboard-read", "clipboard-write"], accept_downloads=True)
    if login:
        r = context.request.post(url + "login", form={"username": login[0], "password": login[1]})
        assert r.ok, r.status
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(url + ("?__theme=dark" if theme == "dark" else "?__theme=light"))
    page.wait_for_selector("#desk[data-ready=true]", timeout=ANSWER_TIMEOUT)
    return page


@pytest.fixture
def desktop(browser, app):
    page = open_page(browser, app[0], "desktop")
    yield page
    assert not page.errors, page.errors
    page.context.close()


def ask(page, question: str):
    """Type a question, press Enter, return the locator of the new turn once its answer is shown."""
    done = page.locator(".desk-turn .qa-reply")
    before = done.count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    page.wait_for_function("n => document.querySelectorAll('.desk-turn .qa-reply').length > n", arg=before,
                           timeout=ANSWER_TIMEOUT)
    return page.locator(".desk-turn").nth(before)


def click_and_wait(page, locator):
    before = page.locator(".desk-turn .qa-reply").count()
    locator.click()
    page.wait_for_function("n => document.querySelectorAll('.desk-turn .qa-reply').length > n", arg=before,
                           timeout=ANSWER_TIMEOUT)
    return page.locator(".desk-turn").nth(before)


def shot(page, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"))
    if GALLERY:
        GALLERY.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(GALLERY / f"{name}.png"))


def top_in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and -2 <= box["y"] < page.viewport_size["height"] - 40


def feedback_lines(folder: Path) -> list[dict]:
    path = folder / "feedback" / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []


# -- what the page is checked against ---------------------------------------------------------------
CONTRAST_JS = """
() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(parseFloat); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const blend = (top, base) => [0, 1, 2].map((i) => top[i] * top[3] + base[i] * (1 - top[3]));
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = (el) => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let base = [255, 255, 255]; for (const c of layers.reverse()) base = blend(c, base); return base; };
  const bad = []; let checked = 0;
  const walk = document.createTreeWalker(document.querySelector('#desk'), NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode; if (!node.textContent.trim()) continue;
    const el = node.parentElement; const r = el.getBoundingClientRect();
    if (!r.width || !r.height || !el.checkVisibility({ visibilityProperty: true })) continue;
    const cs = getComputedStyle(el); const bg = background(el); const fg = blend(parse(cs.color), bg);
    const [a, b] = [lum(fg), lum(bg)]; const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); checked++;
    if (ratio < 4.5) bad.push(`${node.textContent.trim().slice(0, 16)} (${el.className}): ${ratio.toFixed(2)}`);
  }
  return { bad, checked };
}
"""

ENGLISH_JS = """
() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(el.tagName)) continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    out.push(walk.currentNode.textContent);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')) {
    if (el.tagName !== 'INPUT' && !el.checkVisibility({ visibilityProperty: true })) continue;
    for (const a of ['aria-label', 'placeholder', 'title', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  out.push(document.title, document.documentElement.lang);
  return out;
}
"""

PHONE_JS = """
() => {
  const inner = [...document.querySelectorAll('#desk *')].filter((el) => {
    const s = getComputedStyle(el); return ['auto', 'scroll'].includes(s.overflowY) && el.scrollHeight > el.clientHeight + 1
      && el.checkVisibility(); }).map((el) => el.className || el.tagName);
  const box = document.querySelector('#question'); const cs = getComputedStyle(box);
  const ctx = document.createElement('canvas').getContext('2d'); ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
  const room = box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return { inner, scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth,
           placeholder: ctx.measureText(box.placeholder).width, room };
}
"""


def english_words(page, allowed: set[str]) -> set[str]:
    words = set()
    for text in page.evaluate(ENGLISH_JS):
        found = set(re.findall(r"[A-Za-z]{3,}", text or "")) - allowed - UI_WORDS
        if found:
            print("English on the page:", text[:200])
        words |= found
    return words


def corpus_words(*folders: Path) -> set[str]:
    """English letters that documents themselves contain (手机APP) or their file names: content, not UI."""
    words: set[str] = set()
    for folder in folders:
        for f in folder.iterdir():
            words |= set(re.findall(r"[A-Za-z]{3,}", f.name))
            if f.suffix in (".txt", ".md", ".html"):
                words |= set(re.findall(r"[A-Za-z]{3,}", f.read_text("utf-8", errors="replace")))
    return words


def check_page(page, allowed: set[str]) -> None:
    """What every state is held to: text contrast ≥ 4.5:1, no English, nothing wider than the screen."""
    contrast = page.evaluate(CONTRAST_JS)
    assert contrast["checked"] > 5 and not contrast["bad"], contrast["bad"][:10]
    assert not english_words(page, allowed)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


# -- 1. a new answer lands in view, at its start ------------------------------------------------------
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_new_answer_scrolls_into_view_at_its_start(browser, app, size: str) -> None:
    page = open_page(browser, app[0], size)
    ask(page, "市应急局负责哪些工作?")
    ask(page, "第四部分包括哪些条目?")
    page.evaluate("window.scrollTo(0, 0)")  # read from the top, then ask again
    turn = ask(page, "燃气安全由谁牵头?")
    assert top_in_view(page, turn), turn.bounding_box()
    assert page.locator("#question").bounding_box()["y"] < page.viewport_size["height"]  # the composer stays in view
    page.context.close()


# -- 2. set answers are tables, the cards folded ------------------------------------------------------
def test_a_department_answer_is_a_table_and_copies_as_one(desktop) -> None:
    turn = ask(desktop, "市应急局负责哪些工作?")
    rows = turn.locator("table.desk-table tbody tr")
    assert rows.count() == 31
    assert [h.inner_text() for h in turn.locator("table.desk-table th").all()] == ["条目", "标题", "角色", "牵头单位", "完成时限"]
    assert rows.first.locator("td").first.inner_text() == "第1条"
    assert ";第" not in turn.locator(".desk-a-text").inner_text()  # not a run-on paragraph
    folded = turn.locator("details.desk-cites-all")
    assert folded.locator("> summary").inner_text() == "查看全部31条出处"
    assert not folded.evaluate("d => d.open") and not turn.locator(".desk-card").first.is_visible()
    folded.locator("> summary").click()
    assert turn.locator(".desk-card").count() == 31 and turn.locator(".desk-card").first.is_visible()
    turn.get_by_role("button", name="复制表格").click()
    turn.locator(".desk-table-tools .desk-status").filter(has_text="已复制").wait_for()
    copied = desktop.evaluate("navigator.clipboard.readText()").splitlines()
    assert len(copied) == 32 and copied[0].split("\t") == ["条目", "标题", "角色", "牵头单位", "完成时限"]
    assert copied[1].split("\t")[:3] == ["第1条", "强化思想理论武装", "牵头"]


# -- 3. contrast in both themes -----------------------------------------------------------------------
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_contrast_is_at_least_4_5_in_both_themes(browser, app, theme: str) -> None:
    page = open_page(browser, app[0], "desktop", theme)
    ask(page, "燃气安全由谁牵头?").locator(".desk-card summary").first.click()
    ask(page, "明年的工作要点是什么?")
    ask(page, "第二条呢?")
    dept = ask(page, "市应急局负责哪些工作?")
    dept.locator("details.desk-cites-all > summary").click()
    dept.locator(".desk-up").click()
    dept.locator(".desk-status").filter(has_text="已记录").wait_for()
    ask(page, "燃气" * 300)
    result = page.evaluate(CONTRAST_JS)
    assert result["checked"] > 100 and not result["bad"], result["bad"][:10]
    page.locator("#tab-browse").click()
    page.locator("#browse .desk-task").first.wait_for()
    page.locator("#browse .desk-task summary").first.click()
    result = page.evaluate(CONTRAST_JS)
    assert not result["bad"], result["bad"][:10]
    page.context.close()


# -- 4. conversations kept, copied and exported -------------------------------------------------------
def test_conversations_survive_a_reload_and_can_be_renamed_and_deleted(browser, app) -> None:
    page = open_page(browser, app[0], "desktop")
    ask(page, "燃气安全由谁牵头?")
    ask(page, "还有哪些部门配合?")
    page.locator("#new-chat").click()
    ask(page, "双控机制建设什么时候要完成?")
    page.reload()
    page.wait_for_selector("#desk[data-ready=true]")
    items = page.locator(".desk-history-item")
    assert items.count() == 2
    assert page.locator(".desk-turn").count() == 1  # the current conversation is back
    items.filter(has_text="燃气安全由谁牵头").locator(".desk-history-open").click()
    assert page.locator(".desk-turn").count() == 2 and "市公安局" in page.locator(".desk-turn").nth(1).inner_text()
    # rename
    page.get_by_role("button", name="重命名对话:燃气安全由谁牵头?").click()
    page.fill(".desk-history-item input", "燃气的牵头和配合")
    page.press(".desk-history-item input", "Enter")
    assert page.locator(".desk-history-open", has_text="燃气的牵头和配合").count() == 1
    # delete, with a confirmation
    page.get_by_role("button", name="删除对话:双控机制建设什么时候要完成?").click()
    page.get_by_role("button", name="确认删除").click()
    page.reload()
    page.wait_for_selector("#desk[data-ready=true]")
    assert [t.inner_text() for t in page.locator(".desk-history-open").all()] == ["燃气的牵头和配合"]
    assert not page.errors, page.errors
    page.context.close()


def test_copy_and_export_of_a_conversation(desktop, tmp_path: Path) -> None:
    first = ask(desktop, "燃气安全由谁牵头?")
    ask(desktop, "第四部分包括哪些条目?")
    first.get_by_role("button", name="复制回答(含出处)").click()
    first.locator(".desk-status").filter(has_text="已复制").wait_for()
    copied = desktop.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("问:燃气安全由谁牵头?") and "出处:" in copied and "第23条" in copied and "<" not in copied

    with desktop.expect_download() as got:
        desktop.get_by_role("button", name="导出 Markdown").click()
    md = Path(got.value.path()).read_text("utf-8")
    assert got.value.suggested_filename.endswith(".md")
    assert "## 1. 燃气安全由谁牵头?" in md and "## 2. 第四部分包括哪些条目?" in md and "| 第13条 |" in md

    with desktop.expect_download() as got:
        desktop.get_by_role("button", name="导出 Word").click()
    from docx import Document as Docx

    d = Docx(got.value.path())
    text = "\n".join(p.text for p in d.paragraphs)
    assert got.value.suggested_filename.endswith(".docx")
    assert "燃气安全由谁牵头?" in text and "市城管执法局" in text and len(d.tables) == 1


# -- 5. clarifications and follow-up chips ------------------------------------------------------------
def test_a_clarification_offers_candidates_and_answers_offer_follow_ups(desktop) -> None:
    turn = ask(desktop, "第二条呢?")
    assert turn.locator(".desk-badge").inner_text() == "请补充"
    assert "desk-refused" not in turn.locator(".qa-reply").get_attribute("class")
    answer = click_and_wait(desktop, turn.get_by_role("button", name="第2条由谁牵头?"))
    assert "市应急管理局" in answer.locator(".desk-a-text").inner_text()

    turn = ask(desktop, "燃气安全由谁牵头?")
    chips = [c.inner_text() for c in turn.locator(".desk-chips .desk-chip").all()]
    assert chips == ["第23条有哪些配合单位?", "第23条原文是怎么写的?"]  # 第23条 states no deadline: no 时限 chip
    reply = click_and_wait(desktop, turn.get_by_role("button", name="第23条有哪些配合单位?"))
    assert "市公安局" in reply.inner_text() and top_in_view(desktop, reply)


# -- 6. feedback --------------------------------------------------------------------------------------
def test_feedback_up_undo_down_with_a_reason(browser, app) -> None:
    url, folder = app
    page = open_page(browser, url, "phone")
    turn = ask(page, "双控机制建设什么时候要完成?")
    up, down = turn.locator(".desk-up"), turn.locator(".desk-down")
    assert up.get_attribute("aria-label") == "赞:回答有帮助" and down.get_attribute("aria-label") == "踩:回答没有帮助"
    status = turn.locator(".desk-tools .desk-status")

    up.click()
    status.filter(has_text="有帮助").wait_for()
    assert up.get_attribute("aria-pressed") == "true" and top_in_view(page, status)
    up.click()  # undo: a withdrawal, never a dislike
    status.filter(has_text="撤销").wait_for()
    assert up.get_attribute("aria-pressed") == "false" and up.inner_text() == "赞"
    down.click()
    reason = turn.locator(".desk-reason-text")
    reason.wait_for()
    assert top_in_view(page, reason)
    reason.fill("时限应该写到具体日期")
    turn.get_by_role("button", name="提交原因").click()
    status.filter(has_text="原因").wait_for()
    lines = [x for x in feedback_lines(folder) if x["question"] == "双控机制建设什么时候要完成?"]
    assert [x["rating"] for x in lines] == ["up", "withdrawn", "down", "down"]
    assert lines[-1]["reason"] == "时限应该写到具体日期" and lines[-1]["citations"][0]["path"] == "第38条"
    assert len({x["id"] for x in lines}) == 1

    notice = ask(page, "燃气" * 300)  # a system notice: no thumbs, no copy
    assert "太长" in notice.inner_text() and notice.locator(".desk-up, .desk-down, .desk-copy").count() == 0
    assert not page.errors, page.errors
    page.context.close()


def test_forged_feedback_is_refused(app) -> None:
    """The page's record is signed by the server: a script cannot log feedback for an answer it made up."""
    url, folder = app
    before = len(feedback_lines(folder))
    with httpx.Client(base_url=url, timeout=10) as client:
        config = client.get("config").json()
        component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "desk-root")
        payload = {"rating": "down", "record": {"id": "x", "question": "q", "answer": "a"}, "sig": "0" * 64}
        r = client.post("gradio_api/component_server", json={"data": payload, "component_id": component,
                                                             "fn_name": "feedback", "session_hash": "forged"})
    assert r.status_code == 200 and "无法记录" in r.json()["error"]
    assert len(feedback_lines(folder)) == before


# -- 7. the phone layout -----------------------------------------------------------------------------
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_phone_layout(browser, app, theme: str) -> None:
    page = open_page(browser, app[0], "phone", theme)
    height = page.viewport_size["height"]
    assert page.locator("#examples").bounding_box()["y"] + page.locator("#examples").bounding_box()["height"] <= height
    assert page.locator("#new-chat").bounding_box()["y"] >= 0
    assert page.locator("#question").bounding_box()["y"] + 40 <= height
    first = page.evaluate(PHONE_JS)
    assert first["placeholder"] <= first["room"], first  # the placeholder is not clipped
    turn = ask(page, "市应急局负责哪些工作?")
    turn.locator("details.desk-cites-all > summary").click()
    result = page.evaluate(PHONE_JS)
    assert not result["inner"], result["inner"]  # only the page scrolls
    assert result["scrollWidth"] <= result["width"], result
    assert turn.locator(".qa-reply").bounding_box()["width"] >= 0.9 * result["width"]
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    box = page.locator("#question").bounding_box()  # the composer sticks to the bottom while reading
    assert 0 < box["y"] and box["y"] + box["height"] <= height
    page.locator(".desk-history-toggle").click()
    assert page.locator("#desk-history").is_visible()
    page.locator("#tab-browse").click()
    box = page.locator("#filter-department")
    box.wait_for()
    room, needed = box.evaluate("""b => { const cs = getComputedStyle(b); const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
      return [b.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight), ctx.measureText(b.placeholder).width]; }""")
    assert needed <= room, (needed, room)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.context.close()


# -- 8. small things ---------------------------------------------------------------------------------
def test_an_item_answer_shows_the_whole_task_and_opens_it_in_browse(desktop, app) -> None:
    from rag.reading import load_corpus

    item = load_corpus(ROOT / "corpus").docs[0].item(12)
    turn = ask(desktop, "第12条讲了什么?")
    card = turn.locator(".desk-card").first
    assert card.evaluate("d => d.open")  # the whole task, open
    assert card.locator(".desk-card-full").inner_text() == item.text
    assert card.locator(".desk-card-full").is_visible()
    card.get_by_role("button", name="在浏览文件中查看").click()
    task = desktop.locator("#browse .desk-task[data-path='第12条']")
    task.wait_for()
    assert task.evaluate("d => d.open") and top_in_view(desktop, task)
    assert desktop.locator("#tab-browse").get_attribute("aria-selected") == "true"


def test_the_department_filter_replaces_its_text_sorts_by_pinyin_and_filters_as_you_type(desktop) -> None:
    from pypinyin import lazy_pinyin

    desktop.locator("#tab-browse").click()
    box = desktop.locator("#filter-department")
    box.click()
    names = [li.inner_text() for li in desktop.locator(".desk-suggest li").all()]
    assert len(names) > 20 and names == sorted(names, key=lambda n: (lazy_pinyin(n), n))
    box.press_sequentially("公安")
    assert all("公安" in li.inner_text() for li in desktop.locator(".desk-suggest li").all())
    desktop.locator(".desk-suggest li", has_text="市公安局").first.dispatch_event("mousedown")
    assert box.input_value() == "市公安局"
    shown = desktop.locator("#browse .desk-task:visible")
    assert shown.count() > 3 and "共" in desktop.locator(".desk-browse-summary").inner_text()
    box.click()
    desktop.locator(".desk-suggest li", has_text="市应急管理局").first.dispatch_event("mousedown")
    assert box.input_value() == "市应急管理局"  # replaced, not appended
    assert desktop.locator("#browse .desk-task:visible").count() == 31


def test_no_english_reaches_the_user_and_connection_errors_are_in_chinese(desktop) -> None:
    allowed = corpus_words(ROOT / "corpus")
    ask(desktop, "燃气安全由谁牵头?").locator(".desk-card summary").first.click()
    assert not english_words(desktop, allowed)
    desktop.route("**/gradio_api/component_server**", lambda route: route.abort())
    turn = ask(desktop, "市民政局负责哪些工作?")
    assert "连接出错" in turn.inner_text()
    desktop.unroute("**/gradio_api/component_server**")
    desktop.locator("#tab-browse").click()
    desktop.locator("#browse .desk-task summary").first.click()
    desktop.locator(".desk-report summary").click()
    assert not english_words(desktop, allowed)
    assert desktop.evaluate("document.documentElement.lang") == "zh-CN"


def test_the_page_width_does_not_jump_when_the_first_answer_arrives(desktop) -> None:
    before = [desktop.locator(s).bounding_box() for s in (".desk-composer", ".desk-head", ".desk-tabs")]
    assert desktop.evaluate("document.documentElement.scrollHeight <= innerHeight")  # no scrollbar yet
    ask(desktop, "市应急局负责哪些工作?")  # a long answer: now the page scrolls
    after = [desktop.locator(s).bounding_box() for s in (".desk-composer", ".desk-head", ".desk-tabs")]
    assert [(b["x"], b["width"]) for b in after] == [(b["x"], b["width"]) for b in before]


def test_document_text_with_html_and_markdown_shows_as_text(browser, tmp_path: Path) -> None:
    source = (ROOT / "corpus" / "safety-work-plan-2020.txt").read_text("utf-8")
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("27."))
    head, dot, rest = lines[at].partition("。")
    lines[at] = f"{head}{dot}{POISON}{rest}"
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "poisoned.txt").write_text("\n".join(lines) + "\n", "utf-8")
    if (ROOT / "index" / "cache").is_dir():
        shutil.copytree(ROOT / "index" / "cache", index / "cache")
    with start_app(tmp_path, "--corpus", str(corpus), "--index", str(index)) as url:
        page = open_page(browser, url)
        reply = ask(page, "第27条讲什么?")
        shown = reply.inner_text()
        for literal in ("<script>alert(1)</script>", "**bold**", "[link](http://x)", "<img src=x"):
            assert literal in shown, literal
        desk = page.locator("#desk")
        assert desk.locator("script, img[src='x'], a[href='http://x'], strong").count() == 0
        page.locator("#tab-browse").click()
        task = page.locator("#browse .desk-task[data-path='第27条']")
        task.locator("summary").click()
        assert POISON in task.inner_text()
        assert desk.locator("script, img[src='x'], a[href='http://x']").count() == 0
        assert not page.errors, page.errors
        page.context.close()


# -- many documents and the admin ---------------------------------------------------------------------
def test_admin_uploads_previews_publishes_and_removes_a_document(browser, admin_app) -> None:
    url, folder = admin_app
    reader = open_page(browser, url, login=("clerk", "clerk-pass"))
    assert not reader.locator("#tab-admin").is_visible()  # a reader has no 管理
    reader.context.close()

    page = open_page(browser, url, login=ADMIN)
    page.locator("#tab-admin").click()
    page.set_input_files("#admin-file", files=[{"name": "notes.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}])
    page.locator("#panel-admin .desk-status").filter(has_text="不支持").wait_for()
    page.set_input_files("#admin-file", str(SECOND_DOC))
    preview = page.locator("#admin-preview")
    preview.get_by_text("解析报告").wait_for()
    assert "任务条目" in preview.inner_text() and "Word 文档" in preview.inner_text()
    assert preview.locator("tbody tr").count() > 5
    assert not (folder / "corpus" / SECOND_DOC.name).exists()  # not live before 发布
    preview.get_by_role("button", name="发布").click()
    page.locator("#panel-admin .desk-status").filter(has_text="已发布").wait_for(timeout=120_000)
    assert (folder / "corpus" / SECOND_DOC.name).exists()
    assert page.locator(".desk-admin-docs li").count() == 2

    # two documents: a picker scopes questions, cards name the document, browse works per document
    page.locator("#tab-chat").click()
    picker = page.locator(".desk-picker")
    assert picker.is_visible() and picker.locator("input").count() == 2
    picker.locator("label", has_text="重点工作").locator("input").check()
    turn = ask(page, "第1条由谁牵头?")
    assert "市科技局" in turn.inner_text()
    docs = [c.inner_text() for c in turn.locator(".desk-card-doc").all()]
    assert docs and all("重点工作" in d for d in docs), docs
    page.locator("#tab-browse").click()
    page.select_option("#browse-doc", label=page.locator("#browse-doc option", has_text="重点工作").inner_text())
    page.locator(".desk-report summary").click()
    assert "表格" in page.locator(".desk-report").inner_text()
    with page.expect_download() as got:
        page.get_by_role("button", name="下载原文件").click()
    assert Path(got.value.path()).read_bytes() == SECOND_DOC.read_bytes()

    # remove it again, with a confirmation
    page.locator("#tab-admin").click()
    page.get_by_role("button", name=re.compile("删除文件:.*重点工作")).click()
    page.get_by_role("button", name="确认删除").click()
    page.locator("#panel-admin .desk-status").filter(has_text="已删除").wait_for(timeout=60_000)
    assert not (folder / "corpus" / SECOND_DOC.name).exists()
    assert page.locator(".desk-admin-docs li").count() == 1
    assert not page.errors, page.errors
    page.context.close()


def test_admin_feedback_view_filters_and_exports_csv(browser, admin_app) -> None:
    url, _ = admin_app
    page = open_page(browser, url, login=ADMIN)
    turn = ask(page, "燃气安全由谁牵头?")
    turn.locator(".desk-down").click()
    turn.locator(".desk-reason-text").fill("漏了属地责任")
    turn.get_by_role("button", name="提交原因").click()
    turn.locator(".desk-tools .desk-status").filter(has_text="原因").wait_for()
    liked = ask(page, "第四部分包括哪些条目?")
    liked.locator(".desk-up").click()
    liked.locator(".desk-tools .desk-status").filter(has_text="有帮助").wait_for()
    page.locator("#tab-admin").click()
    rows = page.locator("#feedback-list tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    page.select_option(".desk-feedback-admin select", "down")
    page.wait_for_function("() => document.querySelectorAll('#feedback-list tbody tr').length === 1")
    row = rows.first.inner_text()
    assert "燃气安全由谁牵头?" in row and "漏了属地责任" in row and "第23条" in row
    with page.expect_download() as got:
        page.get_by_role("button", name="导出 CSV").click()
    table = list(csv.reader(io.StringIO(Path(got.value.path()).read_text("utf-8-sig"))))
    assert table[0][:5] == ["时间", "评价", "原因", "问题", "回答"] and table[1][1:4] == ["踩", "漏了属地责任", "燃气安全由谁牵头?"]
    page.context.close()


def test_admin_calls_are_refused_to_readers_and_oversized_bodies_are_refused(admin_app) -> None:
    url, _ = admin_app
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.post("login", data={"username": "clerk", "password": "clerk-pass"}).status_code == 200
        config = client.get("config").json()
        component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "desk-root")
        data = base64.b64encode(SECOND_DOC.read_bytes()).decode()
        body = {"data": {"op": "stage", "name": "x.docx", "data": data}, "component_id": component,
                "fn_name": "admin", "session_hash": "reader"}
        r = client.post("gradio_api/component_server", json=body)
        assert r.status_code == 200 and r.json()["error"] == "需要管理员账号登录。"
        big = client.post("gradio_api/component_server", content=b"x" * (25 * 2**20),
                          headers={"content-type": "application/json"})
        assert big.status_code == 413 and "上限" in big.json()["message"]
        assert client.post("gradio_api/upload", files={"files": ("big.bin", b"x" * 50_000)}).status_code == 413


def test_login_is_required_when_auth_is_set_and_guessing_is_limited(admin_app) -> None:
    url, _ = admin_app
    assert http_status(url + "config")[0] in (401, 403)
    login = f"{url}login"
    assert httpx.post(login, data={"username": "clerk", "password": "clerk-pass"}, timeout=10).status_code == 200
    guesses = [httpx.post(login, data={"username": "clerk", "password": f"guess{i}"}, timeout=10) for i in range(10)]
    assert all(r.status_code >= 400 for r in guesses)
    # the right password, after ten failures within the minute, is refused too (the last test to log in as clerk)
    assert httpx.post(login, data={"username": "clerk", "password": "clerk-pass"}, timeout=10).status_code >= 400


def test_nothing_private_is_served(app) -> None:
    url, folder = app
    for path in ("/etc/passwd", str(folder / "feedback" / "feedback.jsonl"), str(ROOT / "app.py"),
                 str(ROOT / "index" / "manifest.json")):
        status, body = http_status(f"{url}gradio_api/file={path}")
        assert status != 200 and b"root:" not in body, path


# -- the gallery: five states, two widths, two themes ------------------------------------------------
@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_of_the_main_states(browser, admin_app, size: str, theme: str) -> None:
    url, folder = admin_app
    allowed = corpus_words(folder / "corpus", SECOND_DOC.parent)
    page = open_page(browser, url, size, theme, login=ADMIN)
    name = f"{size}-{theme}"
    composer = page.locator(".desk-composer").bounding_box()

    ask(page, "燃气安全由谁牵头?")
    turn = ask(page, "还有哪些部门配合?")
    assert top_in_view(page, turn)
    assert page.locator(".desk-composer").bounding_box()["width"] == composer["width"]  # no layout jump
    check_page(page, allowed)
    shot(page, f"{name}-1-two-turns")

    turn = ask(page, "市应急局负责哪些工作?")
    assert top_in_view(page, turn) and turn.locator("table.desk-table tbody tr").count() == 31
    check_page(page, allowed)
    shot(page, f"{name}-2-department-table")

    turn = ask(page, "明年的工作要点是什么?")
    assert top_in_view(page, turn) and turn.locator(".desk-badge").inner_text() == "文件中没有答案"
    check_page(page, allowed)
    shot(page, f"{name}-3-refusal")

    page.locator("#new-chat").click()  # 「第二条呢?」 opening a conversation: what about it?
    turn = ask(page, "第二条呢?")
    assert top_in_view(page, turn) and turn.locator(".desk-cand").count() == 3
    check_page(page, allowed)
    shot(page, f"{name}-4-clarification")

    page.locator("#tab-admin").click()
    page.set_input_files("#admin-file", str(SECOND_DOC))
    preview = page.locator("#admin-preview")
    preview.get_by_text("解析报告").wait_for()
    assert top_in_view(page, preview), (preview.bounding_box(), page.evaluate("window.scrollY"))
    check_page(page, allowed)
    shot(page, f"{name}-5-admin-upload")
    preview.get_by_role("button", name="放弃").click()
    assert not page.errors, page.errors
    page.context.close()

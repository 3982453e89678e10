"""End to end: `python app.py` on a free localhost port, driven by headless Debian Chromium.

Needs /usr/bin/chromium and fonts-noto-cjk (scripts/system-deps.sh installs both; CI runs it).
Playwright is only the driver here: it never downloads a browser. Screenshots go to test-output/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
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

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
START_TIMEOUT = 90  # seconds for the app to load the index and listen
ANSWER_TIMEOUT = 30_000  # ms for one reply
POISON = "<script>alert(1)</script> **bold** [link](http://x) <img src=x onerror=alert(2)>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@contextmanager
def start_app(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "app.log").open("wb")
    cmd = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port),
           "--feedback", str(tmp_path / "feedback" / "feedback.jsonl"), *extra]
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                tail = (tmp_path / "app.log").read_text()[-3000:]
                pytest.fail(f"app.py exited with {proc.returncode}:\n{tail}")
            try:
                if http_status(url)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url} within {START_TIMEOUT}s:\n"
                            f"{(tmp_path / 'app.log').read_text()[-3000:]}")
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


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh "
                    "(it installs chromium and fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1200}, locale="zh-CN")
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def ask(page, question: str) -> object:
    """Type a question, press Enter, return the locator of the new reply."""
    replies = page.locator("#chat .qa-reply")
    before = replies.count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function("n => document.querySelectorAll('#chat .qa-reply').length > n", arg=before,
                           timeout=ANSWER_TIMEOUT)
    return replies.nth(before)


def test_two_turn_conversation_with_citation_cards(tmp_path: Path, page) -> None:
    OUT.mkdir(exist_ok=True)
    with start_app(tmp_path) as url:
        page.goto(url)
        page.wait_for_selector("#question textarea")
        assert "请输入问题" in page.inner_text("#chat")

        first = ask(page, "燃气安全由谁牵头?")
        text = first.inner_text()
        assert "市城管执法局" in text and "第23条" in text
        assert first.locator(".qa-card").count() >= 1
        assert "qa-refused" not in (first.get_attribute("class") or "")

        second = ask(page, "还有哪些部门配合?")
        text = second.inner_text()
        assert "第23条" in text and "市公安局" in text and "市外事商务局" in text
        card = second.locator(".qa-card").first
        card.locator("summary").click()
        mark = card.locator("mark.qa-hl")
        mark.wait_for(state="visible")
        assert "市公安局" in mark.inner_text()
        assert "燃气" in card.locator(".qa-full").inner_text()  # the item's full text around the quote
        page.screenshot(path=str(OUT / "chat-two-turns.png"), full_page=True)

        # a thumbs-up lands in the feedback file with the question and the cited item
        page.locator("#chat button[aria-label='赞']").first.click()  # zh-CN label of Like
        page.wait_for_function("() => document.querySelector('#feedback-note').innerText.includes('已记录')",
                               timeout=ANSWER_TIMEOUT)
        feedback = tmp_path / "feedback" / "feedback.jsonl"
        rows = [json.loads(line) for line in feedback.read_text("utf-8").splitlines()]
        assert rows[-1]["rating"] == "up" and rows[-1]["question"] == "燃气安全由谁牵头?"
        assert rows[-1]["items"][0]["item"] == 23

        # a refusal looks different and says why
        third = ask(page, "明年的工作要点是什么?")
        assert "qa-refused" in third.get_attribute("class")
        assert "文件中没有答案" in third.inner_text()

        # an over-long question gets a clear message instead of an answer
        notice = ask(page, "燃气" * 300)
        assert "太长" in notice.inner_text()

        # the copy panel holds the last real answer as plain text
        page.get_by_text("复制上一条回答").click()
        assert "明年" in page.locator("#plain textarea").input_value()

        # nothing outside the project, and not the feedback file, is served
        for path in ("/etc/passwd", str(feedback), str(ROOT / "app.py")):
            status, body = http_status(f"{url}gradio_api/file={path}")
            assert status != 200 and b"root:" not in body, path
        assert not page.dialogs


def test_document_text_with_html_and_markdown_shows_as_text(tmp_path: Path, page) -> None:
    source = (ROOT / "corpus" / "safety-work-plan-2020.txt").read_text("utf-8")
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("27."))
    head, dot, rest = lines[at].partition("。")
    lines[at] = f"{head}{dot}{POISON}{rest}"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "poisoned.txt").write_text("\n".join(lines) + "\n", "utf-8")
    index = tmp_path / "index"
    if (ROOT / "index" / "cache").is_dir():  # unchanged passages reuse their cached embeddings
        shutil.copytree(ROOT / "index" / "cache", index / "cache")

    with start_app(tmp_path, "--corpus", str(corpus), "--index", str(index)) as url:
        page.goto(url)
        page.wait_for_selector("#question textarea")
        reply = ask(page, "第27条讲什么?")
        for card in reply.locator(".qa-card").all():
            card.locator("summary").click()
        shown = reply.inner_text()
        for literal in ("<script>alert(1)</script>", "**bold**", "[link](http://x)", "<img src=x"):
            assert literal in shown, literal
        chat = page.locator("#chat")
        assert chat.locator("script").count() == 0
        assert chat.locator("img[src='x']").count() == 0
        assert chat.locator("a[href='http://x']").count() == 0
        assert chat.locator("strong", has_text="bold").count() == 0

        page.get_by_role("tab", name="浏览文件").click()
        browse = page.locator("#browse")
        browse.wait_for(state="visible")
        item = browse.locator("details", has_text="第27条").first
        item.locator("summary").click()
        assert POISON in item.inner_text()
        assert browse.locator("script, a[href='http://x'], img[src='x']").count() == 0
        page.screenshot(path=str(OUT / "poisoned-corpus.png"), full_page=True)
        assert not page.dialogs, page.dialogs


def test_login_is_required_when_auth_is_set(tmp_path: Path, page) -> None:
    with start_app(tmp_path, env={"RAG_AUTH": "staff:s3cret"}) as url:
        page.goto(url)
        page.wait_for_selector("input[type=password]")
        assert page.locator("#question textarea").count() == 0
        page.locator("input[type=text], input:not([type])").first.fill("staff")
        page.fill("input[type=password]", "wrong")
        page.keyboard.press("Enter")
        page.wait_for_timeout(1000)
        assert page.locator("#question textarea").count() == 0
        page.locator("input[type=text], input:not([type])").first.fill("staff")
        page.fill("input[type=password]", "s3cret")
        page.keyboard.press("Enter")
        page.wait_for_selector("#question textarea", timeout=ANSWER_TIMEOUT)
        assert "市城管执法局" in ask(page, "燃气安全由谁牵头?").inner_text()


def test_failed_logins_are_limited_over_http(tmp_path: Path) -> None:
    with start_app(tmp_path, env={"RAG_AUTH": "staff:s3cret"}) as url:
        url = url.rstrip("/")
        assert httpx.post(f"{url}/login", data={"username": "staff", "password": "s3cret"}, timeout=10).status_code == 200
        guesses = [httpx.post(f"{url}/login", data={"username": "staff", "password": f"guess{i}"}, timeout=10)
                   for i in range(10)]
        assert all(r.status_code >= 400 for r in guesses)
        locked = httpx.post(f"{url}/login", data={"username": "staff", "password": "s3cret"}, timeout=10)
        assert locked.status_code >= 400  # the right password, after ten failures within the minute


def test_gradios_generic_upload_route_takes_no_file(tmp_path: Path) -> None:
    with start_app(tmp_path) as url:
        url = url.rstrip("/")
        r = httpx.post(f"{url}/gradio_api/upload", files={"files": ("big.bin", b"x" * 50_000)}, timeout=10)
        assert r.status_code == 413

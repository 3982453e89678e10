"""Time from Enter to the answer on screen in the web chat, measured in the browser.

  .venv/bin/python bench/desk_latency.py [--questions 40] [--out docs/desk_latency.json]

Starts `python app.py` on a free loopback port (stopped afterwards) and drives headless
Debian Chromium at a 1366-wide desktop and a 390-wide phone. Each question is typed and sent with
Enter; the page records the time from the keydown to the first task after the frame that shows the
answer (window.deskTimings). "uncached" is the first time the app process sees a question; "cached"
is the same question asked again (the question's embedding is then in the retriever's cache).
Writes a JSON file and a plot next to it, and prints the table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from rag.evaluation import percentile
from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def questions(n: int) -> list[str]:
    seen: list[str] = []
    for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)["question"]
        if q not in seen:
            seen.append(q)
    return seen[:n]


def run(page, asked: list[str], progress: str) -> list[float]:
    out = []
    for n, q in enumerate(asked, 1):
        before = page.evaluate("window.deskTimings.length")
        page.fill("#question", q)
        page.press("#question", "Enter")
        page.wait_for_function("n => window.deskTimings.length > n", arg=before, timeout=30_000)
        out.append(page.evaluate("window.deskTimings[window.deskTimings.length - 1].ms"))
        if n % 10 == 0 or n == len(asked):
            print(f"\r{progress}: {n}/{len(asked)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--questions", type=int, default=40)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "desk_latency.json")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    asked = questions(args.questions)
    half = len(asked) // 2
    rows = []
    app = ServerProcess(program=[sys.executable, "app.py"], cwd=ROOT, ready_path="/", timeout=240,
                        env={"GRADIO_ANALYTICS_ENABLED": "False"})
    with app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        # each viewport gets its own half of the questions for the uncached run, then repeats them
        for (size, (w, h)), part in zip(SIZES.items(), (asked[:half], asked[half:]), strict=True):
            context = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
            page = context.new_page()
            page.goto(app.url + "/")
            page.wait_for_selector("#desk[data-ready=true]")
            for label in ("uncached", "cached"):
                page.locator("#new-chat").click()  # a fresh conversation: every question stands alone
                ms = run(page, part, f"{size} {label}")
                rows.append({"viewport": size, "questions": label, "n": len(ms),
                             "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 0.95), 1),
                             "max_ms": round(max(ms), 1)})
            context.close()
        browser.close()
    result = {"what": "Enter to the answer painted, in headless Chromium, app on loopback",
              "machine": f"{os.cpu_count()} cores, {platform.python_version()}", "time": time.strftime("%Y-%m-%d %H:%M"),
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print("| viewport | questions | n | p50 ms | p95 ms | max ms |\n|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['viewport']} | {r['questions']} | {r['n']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")
    plot(rows, args.out.with_suffix(".png"))
    return 0


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['viewport']}\n{r['questions']}" for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar([i - 0.2 for i in x], [r["p50_ms"] for r in rows], width=0.4, label="p50")
    ax.bar([i + 0.2 for i in x], [r["p95_ms"] for r in rows], width=0.4, label="p95")
    ax.axhline(300, color="#b91c1c", linestyle="--", linewidth=1, label="300 ms budget")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("ms, Enter to answer on screen")
    ax.set_title("Web chat latency in the browser")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())

"""The terminal surface: batch contract, bad input as one line, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def rag(home, *args, stdin=None):
    cmd = [sys.executable, "-m", "rag.surfaces.cli", *args]
    if args and args[0] in {"index", "ask", "batch", "eval"}:
        cmd += ["--corpus", str(home / "corpus"), "--index", str(home / "index")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, input=stdin)


@pytest.fixture(scope="module")
def built(service, home):
    return home  # the session service built the index


def test_ask_prints_answer_and_citation(built):
    out = rag(built, "ask", "燃气安全由谁牵头?")
    assert out.returncode == 0, out.stderr
    assert "市城管执法局" in out.stdout and "第23条" in out.stdout and "[1]" in out.stdout
    data = json.loads(rag(built, "ask", "燃气安全由谁牵头?", "--json").stdout)
    assert data["citations"][0]["item"] == 23 and data["refused"] is False


def test_batch_keeps_order_and_marks_bad_lines(built, tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "q1", "question": "燃气安全由谁牵头?", "extra": 1}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "q3", "question": ""}),
        json.dumps({"id": "q4"}),
        json.dumps(["a list"]),
        json.dumps({"id": 5, "question": "明年的工作要点是什么?"}, ensure_ascii=False),
        json.dumps({"id": "q7", "question": "x" * 10_000}),
    ]
    src.write_text("\n".join(lines) + "\n", "utf-8")
    out = rag(built, "batch", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == len(lines)
    assert rows[0]["id"] == "q1" and rows[0]["citations"][0]["item"] == 23
    assert set(rows[0]) >= {"id", "question", "answer", "citations", "refused", "latency_ms"}
    assert {"doc", "doc_id", "item", "path", "section", "title", "quote"} == set(rows[0]["citations"][0])
    assert "error" in rows[1] and "error" in rows[2] and "error" in rows[3] and "error" in rows[4]
    assert rows[5]["id"] == "5" and rows[5]["refused"] is True
    assert "too long" in rows[6]["error"]


def test_batch_missing_input_is_one_line(built, tmp_path):
    out = rag(built, "batch", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl"))
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0
    assert "input file not found" in out.stderr


def test_missing_corpus_is_one_line(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "rag.surfaces.cli", "index", "--corpus", str(tmp_path / "none"), "--index", str(tmp_path / "i")],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2 and "corpus folder not found" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0


def test_empty_question_is_one_line(built):
    out = rag(built, "ask", "   ")
    assert out.returncode == 2 and out.stderr.strip() == "error: question is empty"


def test_index_reports_up_to_date(built):
    out = rag(built, "index")
    assert out.returncode == 0 and "up to date" in out.stdout

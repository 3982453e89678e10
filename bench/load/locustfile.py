"""Locust users for the load test: POST /v1/ask, cycling through the distinct eval questions.

Set by bench/load/run.py through the environment:
  LOAD_QUESTIONS  JSONL file of {"question": ...} (default: eval/questions.jsonl)
  LOAD_KEY        API key sent as Bearer
  LOAD_RATE       requests a second per user (0: as fast as answers come back)
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from locust import FastHttpUser, constant, constant_throughput, task

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    json.loads(line)["question"]
    for line in Path(os.environ.get("LOAD_QUESTIONS", ROOT / "eval" / "questions.jsonl")).read_text("utf-8").splitlines()
    if line.strip()
]
NEXT = itertools.cycle(QUESTIONS)  # shared by every user: consecutive requests ask different questions
RATE = float(os.environ.get("LOAD_RATE", "0"))


class Helpdesk(FastHttpUser):
    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {os.environ.get('LOAD_KEY', '')}"}

    @task
    def ask(self) -> None:
        question = next(NEXT)
        with self.client.post("/v1/ask", json={"question": question}, headers=self.headers,
                              name="/v1/ask", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "answer" not in (response.json() or {}):
                response.failure("no answer field")

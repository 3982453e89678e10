"""Schemathesis against /openapi.json of a real server: every generated input, valid or not,
must get a response that conforms to the schema, and never a 5xx.

Run with every check schemathesis has, with two documented adjustments (config below):
- a request that breaks the schema *and* is bigger than the body limit gets 413, a rejection too;
- "schema-valid request accepted" is not checked on /v1/ask, /v1/search and /v1/chat/completions:
  a question that is blank once normalized (spaces, control characters only) or a conversation that
  does not end with a user message is schema-valid, yet there is nothing to answer: 422. JSON Schema
  cannot say "not blank after NFKC normalization", so the schema cannot promise otherwise.
POST /v1/admin/reindex is left out: each call rebuilds the index (tests/test_api_reindex.py covers it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
KEY = "schema-test-key-0123"
ALL_CHECKS = [
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "positive_data_acceptance", "missing_required_header", "unsupported_method",
    "allow_header_conformance", "use_after_free", "ensure_resource_availability", "ignored_auth",
    "object_level_authorization",
]  # and negative_data_rejection, configured below
CONFIG = "[checks]\n" + "".join(f"{name}.enabled = true\n" for name in ALL_CHECKS) + """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[[operations]]
include-path-regex = "^/v1/(ask|search|chat/completions)$"
checks.positive_data_acceptance.enabled = false
"""


@pytest.fixture(scope="module")
def server(api_server: ServerProcess) -> ServerProcess:
    return api_server  # shared by the API modules (tests/conftest.py); KEY is one of its keys


def test_schemathesis_finds_no_failure(server: ServerProcess, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "--no-color",
        "run", f"{server.url}/openapi.json", "--header", f"Authorization: Bearer {KEY}",
        "--max-examples", "40", "--seed", "20200422", "--workers", "1",
        "--exclude-path", "/v1/admin/reindex", "--request-timeout", "20",
    ]
    run = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert re.search(r"(\d+) generated, \1 passed", run.stdout), report  # it ran cases, all passed


def test_schema_declares_bearer_auth_and_open_health_checks(server: ServerProcess) -> None:
    import httpx

    assert httpx.get(f"{server.url}/openapi.json").status_code == 401
    spec = httpx.get(f"{server.url}/openapi.json", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert spec["security"] == [{"bearer": []}]
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    search = spec["components"]["schemas"]["SearchIn"]["properties"]["k"]
    assert (search["minimum"], search["maximum"]) == (1, 50)

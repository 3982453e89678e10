from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_text() -> str:
    return (CORPUS / "safety-work-plan-2020.txt").read_text("utf-8")


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    """A project home with a copy of the corpus and its own index, shared by the session."""
    root = tmp_path_factory.mktemp("home")
    shutil.copytree(CORPUS, root / "corpus")
    return root


# Keys the shared API server accepts: each API test module uses its own (test_api, test_api_openai,
# test_api_schema), so a module's requests are told apart in the server's rate limiter.
API_KEYS = ("test-key-0123456789", "openai-test-key-0123", "schema-test-key-0123")


@pytest.fixture(scope="session")
def api_server(tmp_path_factory):
    """One real ``rag serve`` (uvicorn) on a free loopback port for the API test modules."""
    from rag.surfaces.api_process import ServerProcess

    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {"RAG_API_KEYS": ",".join(API_KEYS)}
    # Limits off: the modules send many requests, and many without a key (401 is what they test).
    with ServerProcess(["--rate-limit", "0", "--auth-failures", "0"], env=env, cwd=ROOT, log=log) as srv:
        yield srv


@pytest.fixture(scope="session")
def service(home):
    from rag.service import Service

    return Service(corpus=home / "corpus", index=home / "index")


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    """A service over many documents: the seed plan, its next year and the layout fixtures (eval/multidoc)."""
    from rag.evaluation import materialize
    from rag.service import Service

    home = tmp_path_factory.mktemp("multidoc")
    corpus = materialize(ROOT / "eval" / "multidoc" / "corpus.json", home / "corpus")
    return Service(corpus=corpus, index=home / "index", today=date(2021, 6, 1))

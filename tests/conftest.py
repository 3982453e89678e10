from __future__ import annotations

import shutil
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


@pytest.fixture(scope="session")
def service(home):
    from rag.service import Service

    return Service(corpus=home / "corpus", index=home / "index")

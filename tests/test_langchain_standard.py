"""LangChain's own standard tests for retrievers (langchain-tests), run against PolicyRetriever on
the seed corpus, and the retriever's document filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.langchain import PolicyRetriever
from rag.service import Service

ROOT = Path(__file__).resolve().parents[1]
_SERVICE: Service | None = None


def service() -> Service:
    global _SERVICE
    if _SERVICE is None:
        _SERVICE = Service(corpus=ROOT / "corpus", index=ROOT / "index")
    return _SERVICE


class TestPolicyRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[PolicyRetriever]:
        return PolicyRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"service": service()}

    @property
    def retriever_query_example(self) -> str:
        return "燃气安全由谁牵头?"


def test_a_document_filter_per_call_and_per_retriever(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan-2020.txt").write_bytes((ROOT / "corpus" / "safety-work-plan-2020.txt").read_bytes())
    fixture = ROOT / "tests" / "fixtures" / "formats" / "division-flat.txt"
    (corpus / fixture.name).write_bytes(fixture.read_bytes())
    index = tmp_path / "index"
    if (ROOT / "index" / "cache").is_dir():
        import shutil

        shutil.copytree(ROOT / "index" / "cache", index / "cache")
    s = Service(corpus=corpus, index=index)
    retriever = PolicyRetriever(service=s, k=8)
    both = {d.metadata["doc_id"] for d in retriever.invoke("安全生产 牵头单位 完成时限")}
    assert both == {"plan-2020.txt", fixture.name}
    only = retriever.invoke("安全生产 牵头单位 完成时限", docs=[fixture.name], k=4)
    assert len(only) == 4 and {d.metadata["doc_id"] for d in only} == {fixture.name}
    scoped = PolicyRetriever(service=s, k=4, docs=["plan-2020"])  # an id without its file type
    assert {d.metadata["doc_id"] for d in scoped.invoke("完成时限")} == {"plan-2020.txt"}
    with pytest.raises(Exception, match="unknown document"):
        retriever.invoke("完成时限", docs=["no-such-document"])

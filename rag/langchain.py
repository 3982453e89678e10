"""A LangChain retriever over the same hybrid retrieval the service uses."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever


class PolicyRetriever(BaseRetriever):
    """``PolicyRetriever(service=Service(), k=5).invoke("燃气安全由谁牵头?")`` returns clauses
    with their document, item number, section and title in ``metadata``. Per call,
    ``invoke(question, k=3)`` changes how many and ``invoke(question, docs=["2021/plan.docx"])``
    searches only those documents (ids, ids without the file type, or titles), as ``docs`` does
    for the service's answers."""

    service: Any
    k: int = 5
    docs: list[str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None,
        docs: list[str] | None = None,
    ) -> list[LCDocument]:
        k = self.k if k is None else k
        if k <= 0:
            raise ValueError("k must be greater than 0.")
        chosen = docs if docs is not None else self.docs
        only = frozenset(self.service.resolve_documents(list(chosen))) if chosen is not None else None
        return [
            LCDocument(
                page_content=hit.chunk.text,
                metadata={
                    "doc": hit.chunk.doc, "doc_id": hit.chunk.doc_id, "item": hit.chunk.item,
                    "path": hit.chunk.path, "section": hit.chunk.section, "title": hit.chunk.title,
                    "kind": hit.chunk.kind, "score": hit.score, "id": hit.chunk.id,
                },
            )
            for hit in self.service.search(query, k=k, docs=only)
        ]

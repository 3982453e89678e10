"""A LangChain retriever over the same hybrid retrieval the service uses."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever


class PolicyRetriever(BaseRetriever):
    """``PolicyRetriever(service=Service(), k=5).invoke("燃气安全由谁牵头?")`` returns clauses
    with their document, item number, section and title in ``metadata``."""

    service: Any
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        if self.k <= 0:
            raise ValueError("k must be greater than 0.")
        return [
            LCDocument(
                page_content=hit.chunk.text,
                metadata={
                    "doc": hit.chunk.doc, "item": hit.chunk.item, "section": hit.chunk.section,
                    "title": hit.chunk.title, "kind": hit.chunk.kind, "score": hit.score, "id": hit.chunk.id,
                },
            )
            for hit in self.service.search(query, k=self.k)
        ]

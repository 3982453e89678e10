"""Errors meant for users. Every surface turns these into one clear line, never a traceback."""

from __future__ import annotations


class RagError(Exception):
    """Base class: the message says what happened and what to do."""

    code = "error"


class CorpusError(RagError):
    code = "corpus_error"


class IndexError_(RagError):
    """The index on disk is missing, stale, corrupt or built by another embedder."""

    code = "index_error"


class EmbedderError(RagError):
    code = "embedder_error"


class BadQuestion(RagError):
    code = "bad_question"


class BadDocumentPath(BadQuestion):
    """A document path that would leave the corpus folder (.., absolute, hidden parts)."""

    code = "bad_document_path"

"""Reading documents: any supported file → stored text (formats) → Document (layouts).

``load_corpus(folder)`` reads a folder; ``read_text(text, doc_id)`` reads one text."""

from rag.reading.corpus import Corpus, load_corpus, source_hash
from rag.reading.document import read_text
from rag.reading.tasks import sentences_of

__all__ = ["Corpus", "load_corpus", "read_text", "sentences_of", "source_hash"]

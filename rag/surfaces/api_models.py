"""Request and response shapes of the HTTP API (pydantic models: they validate input and write the
OpenAPI schema). Responses are built as plain dicts from the core's dataclasses; the response models
here document them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr

from rag.answering.question import MAX_QUESTION_CHARS

MAX_K = 50
MAX_HISTORY = 20
MAX_MESSAGES = 50
# An earlier answer's question: the asked one (≤ MAX_QUESTION_CHARS), maybe with a unit name swapped or
# a phrase added by a follow-up. A follow-up can be answered as that question again, so it is embedded.
MAX_TURN_QUESTION_CHARS = MAX_QUESTION_CHARS + 100


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 3.0 is the integer 3; strings and booleans stay errors."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Question = Annotated[StrictStr, Field(min_length=1, max_length=MAX_QUESTION_CHARS)]
ItemNumber = Annotated[int, Field(strict=True, ge=0, le=100_000), BeforeValidator(_whole_number)]
TopK = Annotated[int, Field(strict=True, ge=1, le=MAX_K), BeforeValidator(_whole_number)]
Name = Annotated[StrictStr, Field(max_length=200)]


# -- errors ------------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


# -- answers -----------------------------------------------------------------------------------
class Focus(BaseModel):
    """What an earlier answer was about; only these fields are passed on to the core."""

    model_config = ConfigDict(extra="ignore")
    items: list[ItemNumber] = Field(default_factory=list, max_length=200)
    nearest: list[ItemNumber] = Field(default_factory=list, max_length=200)
    departments: list[Name] = Field(default_factory=list, max_length=50)
    section: Name | None = None
    term: Name | None = None
    doc_id: Name | None = None  # the document the answer came from (follow-ups stay in it)
    docs: list[Name] = Field(default_factory=list, max_length=1000)
    paths: list[Name] = Field(default_factory=list, max_length=200)


class Turn(BaseModel):
    """One earlier answer object, as returned by /v1/ask (extra fields such as citations are ignored)."""

    model_config = ConfigDict(extra="ignore")
    question: Annotated[StrictStr, Field(max_length=MAX_TURN_QUESTION_CHARS)] | None = None
    answer: Annotated[StrictStr, Field(max_length=20_000)] | None = None
    refused: StrictBool = False
    kind: Name | None = None
    focus: Focus = Field(default_factory=Focus)


class AskIn(BaseModel):
    question: Question
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY,
                                description="earlier answer objects of this conversation, oldest first")
    docs: list[Name] | None = Field(default=None, max_length=1000,
                                    description="only these documents (ids from /v1/documents, or titles)")


class CitationOut(BaseModel):
    doc: str
    item: int | None
    section: str | None
    title: str
    quote: str
    doc_id: str
    path: str | None


class CandidateOut(BaseModel):
    doc_id: str
    path: str | None
    title: str
    question: str


class AnswerOut(BaseModel):
    question: str
    answer: str
    citations: list[CitationOut]
    refused: bool
    kind: str
    latency_ms: float
    focus: dict[str, Any]
    candidates: list[CandidateOut] | None = Field(default=None, description='kind "clarify": what to pick from')
    rows: list[dict[str, Any]] | None = Field(default=None, description="set answers: one row per task")


# -- search ------------------------------------------------------------------------------------
class SearchIn(BaseModel):
    query: Question
    k: TopK = 10


class HitOut(BaseModel):
    rank: int
    score: float
    id: str
    doc: str
    kind: str
    item: int | None
    section: str | None
    title: str
    text: str


class SearchOut(BaseModel):
    query: str
    k: int
    hits: list[HitOut]


# -- browsing ----------------------------------------------------------------------------------
class SectionOut(BaseModel):
    numeral: str
    title: str
    items: list[int]


class DocumentOut(BaseModel):
    id: str
    title: str
    meta: dict[str, str]
    sections: list[SectionOut]
    items: int
    issuer: str | None
    doc_number: str | None = Field(description="文号")
    date: str | None
    year: int | None
    place: str | None
    format: str | None


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class UnitsOut(BaseModel):
    raw: str
    lead: list[str]
    lead_rule: str
    co: list[str]
    local: list[str]


class DeadlineOut(BaseModel):
    text: str
    normalized: str
    sentence: str


class CountOut(BaseModel):
    text: str
    value: int
    unit: str
    sentence: str


class ItemOut(BaseModel):
    doc: str
    number: int
    section: str
    title: str
    text: str
    body: str
    units: UnitsOut
    deadlines: list[DeadlineOut]
    counts: list[CountOut]


class DepartmentItemOut(BaseModel):
    doc: str
    doc_id: str
    path: str
    written: str = Field(description="the department's name as this document writes it")
    number: int
    section: str
    title: str
    role: Literal["lead", "co"]
    lead: list[str]
    lead_rule: str
    co: list[str]


class DepartmentOut(BaseModel):
    query: str
    department: str
    count: int
    items: list[DepartmentItemOut]


# -- operations --------------------------------------------------------------------------------
class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    embedder: str
    dim: int
    corpus_hash: str
    chunks: int
    documents: int
    index_created: str
    version: str = Field(description="the index version this server process has loaded")
    worker: int = Field(description="the process that answered (rag serve --workers N runs several)")


class DocumentIn(BaseModel):
    path: Annotated[StrictStr, Field(min_length=1, max_length=300, examples=["2021/safety-work-plan-2021.txt"],
                                     description="the document's path in the corpus: its doc_id")]
    content_base64: Annotated[StrictStr, Field(min_length=1, description="the file's bytes, base64")]


class DocumentChangeOut(BaseModel):
    status: Literal["added", "replaced", "removed"]
    doc_id: str
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    embedded: int
    chunks: int
    seconds: float


class ReindexIn(BaseModel):
    force: StrictBool = Field(True, description="rebuild even when the corpus is unchanged")


class ReindexOut(BaseModel):
    status: str
    corpus_hash: str
    chunks: int
    index_created: str
    seconds: float


# -- OpenAI chat format ------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Name
    text: Annotated[StrictStr, Field(max_length=MAX_QUESTION_CHARS * 4)] | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Annotated[StrictStr, Field(max_length=20_000)] | list[ContentPart] | None = None


class ChatIn(BaseModel):
    """The OpenAI chat-completions request; sampling options (temperature …) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: Name = "policy-qa"
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: StrictBool = False
    docs: list[Name] | None = Field(default=None, max_length=1000,
                                    description="an extension: only these documents (ids from /v1/documents)")


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: str


class ChatOut(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: dict[str, int]
    citations: list[CitationOut] = Field(description="full citation objects of the answer (an extension)")
    refused: bool
    kind: str


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelsOut(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]

"""The official ``openai`` client against /v1/chat/completions, stream and non-stream."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
KEY = "openai-test-key-0123"
QUESTION = "燃气安全由谁牵头?"


@pytest.fixture(scope="module")
def server(api_server: ServerProcess) -> ServerProcess:
    return api_server  # shared by the API modules (tests/conftest.py); KEY is one of its keys


@pytest.fixture(scope="module")
def client(server: ServerProcess):
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=30) as c:
        yield c


def test_non_stream(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="policy-qa", messages=[{"role": "user", "content": QUESTION}])
    assert completion.object == "chat.completion" and completion.choices[0].finish_reason == "stop"
    message = completion.choices[0].message
    assert message.role == "assistant"
    assert "市城管执法局" in message.content and message.content.endswith("【第23条】")
    citations = completion.model_extra["citations"]
    assert citations[0]["item"] == 23 and citations[0]["quote"] and completion.model_extra["refused"] is False


def test_stream_carries_the_same_text_and_the_citations_last(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="policy-qa", messages=messages).choices[0].message.content
    chunks = list(client.chat.completions.create(model="policy-qa", messages=messages, stream=True))
    assert len(chunks) >= 3 and chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert chunks[-1].model_extra["citations"][0]["item"] == 23
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])


def test_follow_up_from_the_conversation(client: openai.OpenAI) -> None:
    messages = [
        {"role": "system", "content": "你是安全生产政策助手。"},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "第23条“燃气”由市城管执法局牵头。【第23条】"},
        {"role": "user", "content": [{"type": "text", "text": "还有哪些部门配合?"}]},
    ]
    completion = client.chat.completions.create(model="policy-qa", messages=messages)
    assert "市公安局" in completion.choices[0].message.content
    assert completion.model_extra["citations"][0]["item"] == 23


def test_refusal_and_errors(client: openai.OpenAI, server: ServerProcess) -> None:
    messages = [{"role": "user", "content": "明年的工作要点是什么?"}]
    refused = client.chat.completions.create(model="policy-qa", messages=messages)
    assert refused.model_extra["refused"] is True and refused.model_extra["citations"] == []
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="policy-qa", messages=[{"role": "user", "content": "   "}])
    with (openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong-key-000000", max_retries=0) as stranger,
          pytest.raises(openai.AuthenticationError)):
        stranger.chat.completions.create(model="policy-qa", messages=[{"role": "user", "content": QUESTION}])


def test_models_list(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["policy-qa"]

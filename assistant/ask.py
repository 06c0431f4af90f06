"""Asking: the one-shot flag, stdin batches and the REPL share this path.
(Interim: prints retrieved passages until the answer engine lands.)"""

from __future__ import annotations

import argparse
import json

from .library import Library


def run(lib: Library, args: argparse.Namespace) -> int:
    if not args.question:
        print("interactive mode is not available yet; use -q QUESTION")
        return 2
    passages = lib.search(args.question, k=args.k or 5, source=args.source, since=args.since, until=args.until)
    if args.json:
        print(json.dumps([{"document": p.document.id, "start": p.start, "end": p.end, "text": p.text,
                           "score": p.score} for p in passages], ensure_ascii=False))
    else:
        for n, p in enumerate(passages, 1):
            print(f"[{n}] {p.document.title} ({p.document.id}) {p.score:.3f}\n{p.text}\n")
    return 0

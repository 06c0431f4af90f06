"""The product's HTML reader on three public sets of saved web pages, scored officially.

    python benchmarks/webpages.py [--data DIR] [--sets aeb htmldate trafilatura] [--limit N]

Every page goes through the product's HTML reader exactly as an indexed ``.html`` file
would: its raw bytes are handed to ``htmlfile.read_html``, the function behind
``assistant.ingest.read`` for ``.html``, whose Document also says where the page's date
came from (``Document.date_source``). The resulting Documents become
each set's predictions in the format its own ``score.py`` expects, and that scorer
(from ``../shared/benchmarks``, run as a subprocess) gives the figures:

* scrapinghub-aeb (181 news pages): article body, shingle F1. Scored twice: on the text
  that is chunked (``Document.text`` without its ``excluded`` spans) and on the whole
  ``Document.text``.
* htmldate-eval (1,000 URLs, 999 pages): publication date, exact day (``Document.date``).
  Scored twice: every date, and only the dates from the markup (a date found only in
  the text is labelled as such); the difference is the text dates' own right and wrong.
* trafilatura-eval (990 pages): main-text snippets kept / boilerplate dropped, on the
  chunked and the whole text; and ``meta_score.py``'s exact title / date / author.

Reading speed is a ratio to a baseline timed in the same run, page by page in turn:
trafilatura's own ``bare_extraction`` (with metadata, the extraction the reader builds
on) over the scrapinghub-aeb pages.

Prints a table and writes benchmarks/out/webpages.json (the predictions stay beside it
in benchmarks/out/webpages/). The pages are read from ../shared at run time, never copied.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.errors import UnreadableFile  # noqa: E402
from assistant.ingest.common import Source  # noqa: E402
from assistant.ingest.htmlfile import read_html  # noqa: E402
from assistant.types import Document  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DATA = ROOT.parent / "shared" / "benchmarks"
SETS = ("aeb", "htmldate", "trafilatura")

# Reference rows, from each folder's README (published table, or measured there).
REFERENCE = {
    "aeb": [
        ("trafilatura 2.0.0 (published)", {"f1": 0.958, "precision": 0.938, "recall": 0.978}),
        (
            "trafilatura 2.3.1 (measured, README)",
            {"f1": 0.960, "precision": 0.942, "recall": 0.978},
        ),
        (
            "rs_trafilatura 9261e08 (published, best)",
            {"f1": 0.970, "precision": 0.951, "recall": 0.990},
        ),
    ],
    "htmldate": [
        (
            "htmldate 1.10.0 extensive (published)",
            {"precision": 0.908, "recall": 0.993, "f": 0.949},
        ),
        ("htmldate 1.10.0 fast (published)", {"precision": 0.924, "recall": 0.927, "f": 0.925}),
    ],
    "trafilatura": [
        (
            "trafilatura 2.2.0 standard (published)",
            {"precision": 0.906, "recall": 0.943, "f": 0.924},
        ),
        (
            "trafilatura 2.3.1 standard (measured, README)",
            {"precision": 0.907, "recall": 0.946, "f": 0.926},
        ),
    ],
    "meta": [
        (
            "trafilatura 2.3.1 bare_extraction (measured, README)",
            {"title": 0.576, "date": 0.865, "author": 0.474},
        ),
    ],
}


class PageReader:
    """Reads raw page bytes through the product's HTML reader, timing only the read."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.pages = 0

    def __call__(self, raw: bytes) -> Document | str:
        """The page's Document, or the reason it was refused."""
        started = time.perf_counter()
        try:
            return read_html(Source(raw, "/saved/page.html", "page.html"))
        except UnreadableFile as exc:
            return exc.reason
        finally:
            self.seconds += time.perf_counter() - started
            self.pages += 1


def chunked_text(document: Document) -> str:
    """``Document.text`` without its excluded spans: what the chunker sees."""
    kept, begin = [], 0
    for start, end in document.excluded:
        kept.append(document.text[begin:start])
        begin = end
    kept.append(document.text[begin:])
    return "\n".join(kept)


def _day(document: Document | str) -> str | None:
    return document.date[:10] if isinstance(document, Document) and document.date else None


def _gz(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def _score(script: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def _numbers(pattern: str, text: str) -> dict[str, float]:
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"scorer output not understood: {text!r}")
    return {k: float(v) for k, v in match.groupdict().items()}


def _limited(items: list, limit: int | None) -> list:
    return items[:limit] if limit else items


def run_aeb(data: Path, reader: PageReader, out: Path, limit: int | None) -> dict:
    folder = data / "scrapinghub-aeb"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    refused = {}
    dirs = {"chunked": out / "chunked", "whole": out / "whole"}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.txt"):
            old.unlink()
    for key in _limited(sorted(truth), limit):
        document = reader(_gz(folder / "html" / f"{key}.html.gz"))
        if isinstance(document, str):
            refused[key] = document
            continue
        (dirs["chunked"] / f"{key}.txt").write_text(chunked_text(document), encoding="utf-8")
        (dirs["whole"] / f"{key}.txt").write_text(document.text, encoding="utf-8")
    result: dict = {"refused": refused}
    for name, d in dirs.items():
        text = _score(folder / "score.py", str(d), "--per-page", str(out / f"per-page-{name}.tsv"))
        result[name] = _numbers(
            r"F1 (?P<f1>[\d.]+) ± (?P<f1_std>[\d.]+)\s+precision (?P<precision>[\d.]+).*?"
            r"recall (?P<recall>[\d.]+).*?accuracy (?P<accuracy>[\d.]+)",
            text,
        )
        result[name]["scorer_output"] = text.strip()
    return result


def _htmldate_pages(folder: Path) -> Iterator[tuple[str, str]]:
    for name in ("eval_mediacloud_2020.json", "eval_default.json"):
        for url, item in json.loads((folder / name).read_text(encoding="utf-8")).items():
            yield url, item["file"]


def run_htmldate(data: Path, reader: PageReader, out: Path, limit: int | None) -> dict:
    folder = data / "htmldate-eval"
    manifest = json.loads((folder / "pages_manifest.json").read_text(encoding="utf-8"))
    predictions: dict[str, dict[str, str | None]] = {"all": {}, "markup": {}}
    by_file: dict[str, tuple[str | None, str | None]] = {}  # one page serves two URLs
    refused = {}
    for url, file in _limited(list(_htmldate_pages(folder)), limit):
        if file not in by_file:
            page = reader(_gz(folder / manifest[file]["stored"]))
            if isinstance(page, str):
                refused[file] = page
                by_file[file] = (None, None)
            else:
                by_file[file] = (_day(page), page.date_source)
        day, source = by_file[file]
        predictions["all"][url] = day
        predictions["markup"][url] = day if source == "markup" else None
    results = {}
    for name, dates in predictions.items():
        path = out / f"dates-{name}.json"
        path.write_text(json.dumps(dates, indent=1, ensure_ascii=False), encoding="utf-8")
        text = _score(
            folder / "score.py", str(path), "--errors", str(out / f"date-errors-{name}.tsv")
        )
        results[name] = _numbers(
            r"tp (?P<tp>\d+)\s+fp (?P<fp>\d+)\s+fn (?P<fn>\d+).*?precision (?P<precision>[\d.]+)\s+"
            r"recall (?P<recall>[\d.]+)\s+accuracy (?P<accuracy>[\d.]+)\s+F (?P<f>[\d.]+)",
            text.replace("\n", " "),
        )
        results[name]["scorer_output"] = text.strip()
    every, markup = results["all"], results["markup"]
    text_dates = {"tp": every["tp"] - markup["tp"], "fp": every["fp"] - markup["fp"]}
    # The labelled reading: precision of the dates shown as the page's own (markup),
    # recall of every date shown (a text date is shown too, marked "from the text").
    labelled = {"precision": markup["precision"], "recall": every["recall"]}
    return {
        **every,
        "markup": markup,
        "text_dates": text_dates,
        "labelled": labelled,
        "refused": refused,
        "scorer_output": every["scorer_output"],
    }


def run_trafilatura(data: Path, reader: PageReader, out: Path, limit: int | None) -> dict:
    folder = data / "trafilatura-eval"
    evaldata = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    texts: dict[str, dict[str, str | None]] = {"chunked": {}, "whole": {}}
    metadata: dict[str, dict[str, str | None]] = {}
    refused = {}
    for file in _limited(sorted({item["file"] for item in evaldata.values()}), limit):
        document = reader(_gz(folder / "pages" / f"{file}.gz"))
        if isinstance(document, str):
            refused[file] = document
            texts["chunked"][file] = texts["whole"][file] = None
            continue
        texts["chunked"][file] = chunked_text(document)
        texts["whole"][file] = document.text
        metadata[file] = {
            "title": document.title,
            "date": _day(document),
            "author": document.author,
        }
    result: dict = {"refused": refused}
    line = (
        r"tp (?P<tp>\d+)\s+fp (?P<fp>\d+)\s+fn (?P<fn>\d+)\s+tn (?P<tn>\d+)\s+precision (?P<precision>[\d.]+)\s+"
        r"recall (?P<recall>[\d.]+)\s+accuracy (?P<accuracy>[\d.]+)\s+F [\d.]+\s+\(F (?P<f>[\d.]+)\)"
    )
    for name, outputs in texts.items():
        path = out / f"text-{name}.json"
        path.write_text(json.dumps(outputs, ensure_ascii=False), encoding="utf-8")
        text = _score(
            folder / "score.py",
            "--json",
            str(path),
            "--per-page",
            str(out / f"per-page-{name}.tsv"),
        )
        result[name] = {**_numbers(line, text.replace("\n", " ")), "scorer_output": text.strip()}
    path = out / "metadata.json"
    path.write_text(json.dumps(metadata, indent=1, ensure_ascii=False), encoding="utf-8")
    text = _score(folder / "meta_score.py", str(path), "--errors", "1000")
    (out / "meta-errors.txt").write_text(text, encoding="utf-8")
    meta = {}
    for field in ("title", "date", "author"):
        m = re.search(
            rf"^{field}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)", text, re.M
        )
        if not m:
            raise RuntimeError(f"meta_score output not understood: {text[:500]!r}")
        scored, correct, wrong, missing = (int(g) for g in m.groups()[:4])
        meta[field] = {
            "scored": scored,
            "correct": correct,
            "wrong": wrong,
            "missing": missing,
            "accuracy": float(m.group(5)),
            "precision": float(m.group(6)),
        }
    result["meta"] = meta
    return result


def run_timing(data: Path, reader: PageReader) -> dict:
    """Product read vs bare trafilatura on the same pages, alternating page by page."""
    import trafilatura
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    folder = data / "scrapinghub-aeb"
    baseline = 0.0
    for path in sorted((folder / "html").glob("*.html.gz")):
        raw = _gz(path)
        reader(raw)
        started = time.perf_counter()
        trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, config=config)
        baseline += time.perf_counter() - started
    return {
        "pages": reader.pages,
        "product_s": reader.seconds,
        "trafilatura_s": baseline,
        "ratio": reader.seconds / baseline,
    }


def table(results: dict) -> list[str]:
    """Markdown rows: the product beside the reference rows."""
    rows = ["| set | run | P | R | F | notes |", "|---|---|---|---|---|---|"]
    if "aeb" in results:
        r = results["aeb"]
        for name in ("chunked", "whole"):
            x = r[name]
            rows.append(
                f"| scrapinghub-aeb | **assistant, {name} text** | {x['precision']:.3f} | {x['recall']:.3f} | "
                f"**{x['f1']:.3f}** ± {x['f1_std']:.3f} | accuracy {x['accuracy']:.3f} |"
            )
        for name, x in REFERENCE["aeb"]:
            rows.append(
                f"| scrapinghub-aeb | {name} | {x['precision']:.3f} | {x['recall']:.3f} | {x['f1']:.3f} | |"
            )
    if "htmldate" in results:
        x = results["htmldate"]
        m, t = x["markup"], x["text_dates"]
        rows.append(
            f"| htmldate-eval | **assistant, Document.date** (every date) | {x['precision']:.3f} | "
            f"{x['recall']:.3f} | **{x['f']:.3f}** | tp {x['tp']:.0f}, fp {x['fp']:.0f}, fn {x['fn']:.0f} |"
        )
        rows.append(
            f"| htmldate-eval | assistant, markup dates only | {m['precision']:.3f} | {m['recall']:.3f} | "
            f"{m['f']:.3f} | tp {m['tp']:.0f}, fp {m['fp']:.0f}, fn {m['fn']:.0f} |"
        )
        rows.append(
            f"| htmldate-eval | assistant, labelled: P of markup dates, R of every date | "
            f"**{x['labelled']['precision']:.3f}** | **{x['labelled']['recall']:.3f}** | | "
            f"text-only dates: {t['tp']:.0f} right, {t['fp']:.0f} wrong |"
        )
        for name, x in REFERENCE["htmldate"]:
            rows.append(
                f"| htmldate-eval | {name} | {x['precision']:.3f} | {x['recall']:.3f} | {x['f']:.3f} | |"
            )
    if "trafilatura" in results:
        r = results["trafilatura"]
        for name in ("chunked", "whole"):
            x = r[name]
            rows.append(
                f"| trafilatura-eval | **assistant, {name} text** | {x['precision']:.3f} | {x['recall']:.3f} | "
                f"**{x['f']:.4f}** | tp {x['tp']:.0f}, fp {x['fp']:.0f}, fn {x['fn']:.0f}; refused {len(r['refused'])} |"
            )
        for name, x in REFERENCE["trafilatura"]:
            rows.append(
                f"| trafilatura-eval | {name} | {x['precision']:.3f} | {x['recall']:.3f} | {x['f']:.3f} | |"
            )
        m = r["meta"]
        rows.append("")
        rows.append("| trafilatura-eval metadata, exact match | title | date | author |")
        rows.append("|---|---|---|---|")
        rows.append(
            "| **assistant** | "
            + " | ".join(
                f"**{m[f]['accuracy']:.3f}** ({m[f]['correct']}/{m[f]['scored']})"
                for f in ("title", "date", "author")
            )
            + " |"
        )
        for name, x in REFERENCE["meta"]:
            rows.append(f"| {name} | {x['title']:.3f} | {x['date']:.3f} | {x['author']:.3f} |")
    if "timing" in results:
        t = results["timing"]
        rows += [
            "",
            "| reading speed, same run, alternating | seconds | ms/page | ratio |",
            "|---|---|---|---|",
            f"| **assistant read()**, {t['pages']} scrapinghub-aeb pages | {t['product_s']:.1f} | "
            f"{t['product_s'] / t['pages'] * 1000:.0f} | **{t['ratio']:.2f}** |",
            f"| trafilatura.bare_extraction (baseline) | {t['trafilatura_s']:.1f} | "
            f"{t['trafilatura_s'] / t['pages'] * 1000:.0f} | 1.00 |",
        ]
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared benchmarks folder")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument(
        "--limit",
        type=int,
        help="only the first N pages of each set (a smoke run; "
        "N >= 20, or the AEB scorer's bootstrap may draw no page with output)",
    )
    parser.add_argument("--json", type=Path, default=OUT / "webpages.json")
    parser.add_argument(
        "--out", type=Path, default=OUT / "webpages", help="where the predictions go"
    )
    parser.add_argument(
        "--skip-timing", action="store_true", help="leave out the reading-speed ratio"
    )
    args = parser.parse_args(argv)
    runners = {"aeb": run_aeb, "htmldate": run_htmldate, "trafilatura": run_trafilatura}
    results: dict = {}
    for name in args.sets:
        reader = PageReader()
        out = args.out / name
        out.mkdir(parents=True, exist_ok=True)
        results[name] = runners[name](args.data, reader, out, args.limit)
        results[name]["read_s"] = reader.seconds
        results[name]["pages"] = reader.pages
        print(f"{name}: {reader.pages} pages read in {reader.seconds:.1f} s", file=sys.stderr)
    if not args.skip_timing:
        results["timing"] = run_timing(args.data, PageReader())
    results["table"] = table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(results["table"]))
    for name in args.sets:
        r = results[name]
        print(
            f"{name}: {r['pages']} pages, {r['read_s']:.1f} s reading ({r['read_s'] / max(r['pages'], 1) * 1000:.0f} ms/page); "
            f"refused: {r['refused'] or 'none'}"
        )
    return results


if __name__ == "__main__":
    main()

"""Command line: flags and subcommands in, exit codes out.

Exit codes: 0 success, 1 an expected failure (one line on stderr, no traceback),
2 a usage error, 3 indexing finished but skipped some files. Domain errors are
translated here, once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import AssistantError, UsageError

EXIT_SKIPPED = 3
MB = 1_000_000  # --max-size is in decimal megabytes, as the skip message prints them


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options every command takes, before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    if suppress:  # a subcommand: its usage is the one a usage error there should print
        parser.set_defaults(command_parser=parser)
    parser.add_argument(
        "--index",
        metavar="DIR",
        default=default,
        help="index folder (default: $ASSISTANT_INDEX, then ./index)",
    )
    parser.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        default=default,
        help="sentence-transformers model (default: the one the index was built with, "
        "else all-MiniLM-L6-v2)",
    )
    parser.add_argument(
        "--chroma-url",
        metavar="URL",
        default=default,
        help="store vectors in a Chroma server (default: $ASSISTANT_CHROMA_URL, else embedded)",
    )


def _date(value: str) -> str:
    from .retrieve import date_bound

    try:
        return date_bound(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Answer questions over a folder of articles with verbatim, cited quotes. "
        "With no question, opens an interactive session.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    _common(parser, suppress=False)
    ask = parser.add_argument_group("asking")
    ask.add_argument(
        "-q",
        "--question",
        metavar="QUESTION",
        help="answer one question and exit; '-' reads one question per line from stdin",
    )
    ask.add_argument(
        "-k", type=_positive, default=None, metavar="N", help="number of quotes (default 5)"
    )
    ask.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    ask.add_argument(
        "--source", metavar="TEXT", help="only documents whose id, title or source matches"
    )
    ask.add_argument(
        "--since", type=_date, metavar="DATE", help="only documents dated on or after DATE"
    )
    ask.add_argument(
        "--until", type=_date, metavar="DATE", help="only documents dated on or before DATE"
    )
    ask.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="answer as of DATE: leave out documents dated after it (undated ones stay)",
    )
    ask.add_argument(
        "--explain", action="store_true", help="show the ranks and scores behind each quote"
    )
    ask.add_argument(
        "--brief",
        action="store_true",
        help="the answer first: the answer line and one quote (a list: each item's sentence)",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    index = commands.add_parser(
        "index",
        help="add files and folders to the index (incremental)",
        description="Index files and folders. Unchanged files are skipped; "
        "with no PATH, refresh every folder indexed before.",
    )
    index.add_argument("paths", nargs="*", metavar="PATH")
    index.add_argument(
        "--rebuild",
        action="store_true",
        help="build the index again beside the old one and swap it in when complete",
    )
    index.add_argument(
        "--max-size",
        type=_positive,
        metavar="MB",
        help="skip files larger than MB megabytes (1 MB = 1,000,000 bytes; default 50)",
    )
    index.add_argument(
        "--jobs",
        type=_positive,
        metavar="N",
        help="worker processes that read and parse files (default: cores - 1, at least 1)",
    )
    index.add_argument(
        "--read-timeout",
        type=_positive,
        metavar="S",
        help="skip a file whose reading takes longer than S seconds (default 60), "
        "plus a second per 20 KB while named entities are tagged",
    )
    index.add_argument(
        "--max-memory",
        type=_positive,
        metavar="MB",
        help="skip a file whose reader needs more than MB megabytes (default: no cap)",
    )
    index.add_argument(
        "--entities",
        metavar="PIPELINE",
        help="spaCy pipeline that finds named entities, or 'off' "
        "(default: $ASSISTANT_ENTITIES, else en_core_web_sm)",
    )
    _common(index, suppress=True)

    sources = commands.add_parser("sources", help="list the indexed documents")
    # SUPPRESS: without a default here, `assistant --json sources` keeps the top-level flag
    # (a subparser's own default would overwrite it with False).
    sources.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON array"
    )
    _common(sources, suppress=True)

    remove = commands.add_parser("remove", help="remove documents from the index by id")
    remove.add_argument("ids", nargs="+", metavar="ID")
    _common(remove, suppress=True)

    mcp = commands.add_parser(
        "mcp",
        help="serve the index to agents over MCP (stdio, or --http)",
        description="Serve the index over the Model Context Protocol: stdio by "
        "default, streamable HTTP on a loopback port with --http.",
    )
    mcp.add_argument(
        "--http",
        metavar="[HOST:]PORT",
        help="serve over HTTP on a loopback HOST (default 127.0.0.1)",
    )
    mcp.add_argument(
        "--allow-index",
        action="append",
        metavar="DIR",
        help="add an index(paths) tool confined to DIR (repeatable)",
    )
    _common(mcp, suppress=True)
    return parser


def _library(args: argparse.Namespace, entities: str | None = None):  # type: ignore[no-untyped-def]
    from .library import Library

    return Library(args.index, model=args.model, chroma_url=args.chroma_url, entities=entities)


def cmd_index(args: argparse.Namespace) -> int:
    from . import render

    lib = _library(args, entities=args.entities)
    max_bytes = args.max_size * MB if args.max_size else None
    from .indexer import ReadLimits

    limits = ReadLimits(args.jobs, args.read_timeout, args.max_memory)
    with render.index_progress() as progress:
        call = lib.rebuild if args.rebuild else lib.add
        report = call(
            args.paths, max_bytes=max_bytes, progress=progress, on_wait=render.note, limits=limits
        )
    render.index_report(report)
    return EXIT_SKIPPED if report.skipped else 0


def cmd_sources(args: argparse.Namespace) -> int:
    from . import render

    docs = _library(args).documents()
    if args.json:
        print(json.dumps([render.source_json(d) for d in docs], ensure_ascii=False, indent=2))
    else:
        render.sources_table(docs)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    removed = _library(args).remove(args.ids)
    for doc_id in args.ids:
        print(f"removed {doc_id}" if doc_id in removed else f"not indexed: {doc_id}")
    return 0 if len(removed) == len(args.ids) else 1


def cmd_ask(args: argparse.Namespace) -> int:
    """No subcommand: one question (-q), a batch (-q -), piped lines, or the REPL."""
    from . import ask, render

    lib, settings = _library(args), ask.Settings.from_args(args)
    lib.require_documents()  # fail early, not after the first question
    if args.question == "-":
        return ask.batch(lib, (line.rstrip("\n") for line in sys.stdin), settings)
    if args.question is not None:
        ask.show(
            ask.ask(lib, args.question, settings),
            settings,
            None if settings.json else render.console(),
        )
        lib.close()
        args.quick_exit = True  # read only, answered, closed: ``run`` may end the process at once
        return 0
    from . import repl

    if not sys.stdin.isatty():
        return repl.plain(lib, settings, sys.stdin)
    return repl.interactive(lib, settings)


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from . import mcpserver  # the MCP SDK loads only for this command
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "mcp":
            raise
        raise AssistantError(
            "the MCP server needs the 'mcp' extra: pip install 'assistant[mcp]'"
        ) from None
    return mcpserver.run(_library(args), args)


def run() -> None:
    """The console script. After a one-shot question, which only reads the index and has
    printed its answer and closed it, the process ends at once: Python's own teardown
    (unloading onnxruntime, chromadb and the model) took a quarter of a second more, an
    eighth of the question's whole time. Every other command exits the usual way."""
    code, quick = _main(None)
    if quick:
        with contextlib.suppress(
            OSError, ValueError
        ):  # a closed or broken pipe: nothing to flush to
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    return _main(argv)[0]


def _main(argv: Sequence[str] | None) -> tuple[int, bool]:
    """The exit code, and whether the command said the process may end at once (a
    one-shot question sets ``args.quick_exit``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quick_exit = False
    return _handle(parser, args), args.quick_exit


def _handle(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    handlers = {"index": cmd_index, "sources": cmd_sources, "remove": cmd_remove, "mcp": cmd_mcp}
    try:
        return handlers.get(args.command, cmd_ask)(args)
    except UsageError as exc:
        getattr(args, "command_parser", parser).print_usage(sys.stderr)
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 2
    except AssistantError as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("assistant: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the index folder cannot be made, read or locked: say which, briefly
        where = f": {exc.filename}" if exc.filename else ""
        print(f"assistant: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1

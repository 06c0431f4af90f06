"""Ingestion: real files in a temp folder, read back as Documents."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import UnreadableFile
from assistant.ingest import SUPPORTED_SUFFIXES, excluded_spans, read, walk
from assistant.types import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


def read_one(path: Path, root: Path | None = None, **kwargs: object) -> Document:
    (document,) = read(path, root or path.parent, **kwargs)  # type: ignore[arg-type]
    return document


def excluded_text(document: Document) -> str:
    return "\n".join(document.text[start:end] for start, end in document.excluded)


def kept_text(document: Document) -> str:
    parts, position = [], 0
    for start, end in document.excluded:
        parts.append(document.text[position:start])
        position = end
    parts.append(document.text[position:])
    return "".join(parts)


def reason_of(path: Path, root: Path | None = None, **kwargs: object) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read(path, root or path.parent, **kwargs)  # type: ignore[arg-type]
    assert caught.value.path == str(path)
    return caught.value.reason


# --- the seed articles -------------------------------------------------------------------

SEED_TITLES = {
    "000": "Pentagon: Russia Gradually Withdraws from Syria",
    "001": "Russia Begins Major Military Withdrawal from Syria Amid Strategic Realignments",
    "002": "Russia to Withdraw All Troops from Syria Within a Month",
    "003": "Putin Orders Withdrawal of Russian Military From Syria",
    "004": "Russia appears to pull back its forces in Syria - media",
}


@pytest.mark.parametrize("prefix", sorted(SEED_TITLES))
def test_seed_text_is_the_file_and_title_is_the_headline(prefix: str) -> None:
    path = seed(prefix)
    document = read_one(path)
    assert document.text == path.read_bytes().decode("utf-8")
    assert document.title == SEED_TITLES[prefix]
    assert document.id == path.name
    assert document.path == str(path)
    assert document.format == "txt"
    assert document.date is None  # no seed has a dateline
    assert_valid_spans(document.text, document.excluded)


def test_seed_001_source_line() -> None:
    document = read_one(seed("001"))
    assert document.source == "www.cnn.com"
    assert "Original Source: www.cnn.com" in excluded_text(document)
    assert "Post Comment" in excluded_text(document)


def test_seed_003_footer_is_excluded_but_no_article_sentence() -> None:
    document = read_one(seed("003"))
    excluded = excluded_text(document)
    for footer in (
        "Share with your friends",
        "Follow Us",
        "Enter your email address to get updated",
        "Delivered by FeedBurner",
        "Leave a Reply",
        "Required fields are marked *",
    ):
        assert footer in excluded
    kept = kept_text(document)
    assert "Share with your friends" not in kept
    assert "Russian President Vladimir Putin on Monday announced" in kept
    assert "as a safety precaution." in kept
    assert "." not in excluded.replace("published.", "")  # no article sentence


def test_seed_002_later_copies_are_excluded_first_copies_kept() -> None:
    document = read_one(seed("002"))
    text = document.text
    headline = SEED_TITLES["002"]
    first, second = find_all(text, headline)
    assert covered(document, second, len(headline))
    assert not overlaps(document, first, len(headline))

    # The interview opens twice; the second copy re-words the first answer a little.
    question = "Archyde:** thank you for joining us today"
    first_q, second_q = find_all(text.casefold(), question.casefold())
    assert covered(document, second_q, len(question))
    assert not overlaps(document, first_q, len(question))
    first_a = text.index("**Expert:** Reports indicate a large-scale withdrawal")
    second_a = text.index("**Expert:** Reports indicate", first_a + 1)
    assert covered(document, second_a, len("**Expert:** Reports indicate"))
    assert not overlaps(document, first_a, 200)
    heading = "## Russia’s Departure: Analyzing the Syrian "
    first_h, second_h = find_all(text, heading)
    assert covered(document, second_h, len(heading))
    assert not overlaps(document, first_h, len(heading))

    # New material after the repeated opening stays.
    assert "It lends considerable weight to the reports." in kept_text(document)
    assert "Leave a Replay" in excluded_text(document)


def test_seed_004_tweet_embed_is_excluded() -> None:
    document = read_one(seed("004"))
    excluded = excluded_text(document)
    assert "pic.twitter.com/2iZsbplwyp" in excluded
    assert "— Conflict (@ConflictTR) December 13, 2024" in excluded
    assert "The loss of the Hmeimim air base" in kept_text(document)
    assert document.author == "Vafa Guliyeva"


def test_seed_000_related_teaser_is_excluded() -> None:
    document = read_one(seed("000"))
    excluded = excluded_text(document)
    assert excluded.startswith("Check Also")
    assert "The Western Balkans is transforming" in excluded
    assert "something that did not happen in Syria." in kept_text(document)


def find_all(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start >= 0:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def covered(document: Document, start: int, length: int) -> bool:
    return any(s <= start and start + length <= e for s, e in document.excluded)


def overlaps(document: Document, start: int, length: int) -> bool:
    return any(s < start + length and start < e for s, e in document.excluded)


# --- text and Markdown -------------------------------------------------------------------


def test_txt_dateline_byline_and_bom(tmp_path: Path) -> None:
    body = "Big Storm Hits Coast\nPublished: March 14, 2016\nBy Jane Doe\n\nWinds rose at dawn.\n"
    path = tmp_path / "storm.txt"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    document = read_one(path)
    assert document.text == body  # the BOM is dropped; offsets count after it
    assert (document.title, document.date, document.author) == (
        "Big Storm Hits Coast",
        "2016-03-14",
        "Jane Doe",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2016-03-14", "2016-03-14"),
        ("Date: 2016-03-14T10:30:00Z", "2016-03-14T10:30:00+00:00"),
        ("Posted on 14 March 2016", "2016-03-14"),
        ("Monday, Mar. 14th, 2016", "2016-03-14"),
        ("Published: 03/04/2016", None),  # ambiguous: no date rather than a wrong one
        ("The war began on March 14, 2016, and has not stopped since then.", None),
        ("Russia withdrew on March 14, 2016 from the base", None),
        ("By Jane Doe | March 14, 2016 10:00 AM", "2016-03-14"),
    ],
)
def test_txt_dateline_forms(tmp_path: Path, line: str, expected: str | None) -> None:
    path = tmp_path / "a.txt"
    path.write_text(f"Headline Here\n{line}\n\nBody text.\n", encoding="utf-8")
    assert read_one(path).date == expected


def test_txt_metadata_first_line_is_no_title_but_a_dateline(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Published: 2024-12-13\n\nRussia began withdrawing.\n", encoding="utf-8")
    document = read_one(path)
    assert (document.title, document.date) == (None, "2024-12-13")


def test_importing_ingest_loads_no_heavy_dependency() -> None:
    import subprocess
    import sys

    code = (
        "import sys, assistant.ingest; "
        "print(sorted(m for m in ('trafilatura', 'pypdf', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_txt_first_line_that_is_a_paragraph_is_no_title(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("word " * 60 + "\n\nMore.\n", encoding="utf-8")
    assert read_one(path).title is None


def test_markdown_front_matter(tmp_path: Path) -> None:
    text = (
        "---\n"
        "title: Russia Leaves Syria\n"
        "date: 2024-12-13\n"
        "source: Reuters\n"
        "url: https://example.com/a\n"
        "author: [Jane Doe, John Roe]\n"
        "---\n"
        "# A Different Heading\n"
        "\n"
        "Russia began withdrawing troops.\r\n"
    )
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "a.md"
    path.write_bytes(text.encode())
    document = read_one(path, tmp_path)
    assert document.id == "sub/a.md"
    assert document.format == "md"
    assert document.text == path.read_bytes().decode("utf-8")
    assert (document.title, document.date, document.source) == (
        "Russia Leaves Syria",
        "2024-12-13",
        "Reuters",
    )
    assert (document.url, document.author) == ("https://example.com/a", "Jane Doe, John Roe")
    body = text.index("# A Different")
    assert document.excluded == ((0, body),)
    assert document.text[body:].startswith("# A Different Heading")


def test_markdown_title_falls_back_to_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "a.markdown"
    path.write_text("Intro line.\n\n```\n# not a heading\n```\n# Real Title #\n\nText.\n")
    document = read_one(path)
    assert document.title == "Real Title"
    assert document.excluded == ()


def test_markdown_broken_front_matter_is_still_excluded(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: [unclosed\n---\nBody text here.\n")
    document = read_one(path)
    assert document.title is None
    assert document.excluded == ((0, len("---\ntitle: [unclosed\n---\n")),)


# --- HTML ---------------------------------------------------------------------------------

ARTICLE_HTML = """<!doctype html><html><head><meta charset="utf-8">
<title>Big News Today | Example Site</title>
<meta property="og:title" content="Big News Today">
<meta property="article:published_time" content="2016-03-14T10:00:00Z">
<meta name="author" content="Jane Doe">
<link rel="canonical" href="https://example.com/big-news">
</head><body><nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<article><h1>Big News Today</h1>
<p>Russian President Vladimir Putin on Monday announced that his country would begin
withdrawing its military personnel from Syria beginning on Tuesday.</p>
<p>The announcement was made on the same day that peace talks between various factions
in the Syrian Civil War began in Geneva.</p>
</article><footer>Copyright 2016 Example Corporation</footer></body></html>"""


def test_html_article(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")
    document = read_one(path)
    assert document.format == "html"
    assert document.title == "Big News Today"
    assert document.date is not None and document.date.startswith("2016-03-14")
    assert document.author == "Jane Doe"
    assert document.url == "https://example.com/big-news"
    assert "Putin on Monday announced" in document.text
    assert "peace talks" in document.text
    assert "About us" not in document.text
    assert "Copyright" not in document.text


# --- PDF ----------------------------------------------------------------------------------


def make_pdf(pages: list[str], info: dict[str, str] | None = None) -> bytes:
    """A minimal valid PDF, one Helvetica text line per page, written by hand."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for n, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * n} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    if info:
        fields = " ".join(f"/{key} ({value})" for key, value in info.items())
        objects.append(f"<< {fields} >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = f"/Size {len(objects) + 1} /Root 1 0 R"
    if info:
        trailer += f" /Info {len(objects)} 0 R"
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer.encode(), xref)
    return bytes(out)


def test_pdf_pages_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    info = {"Title": "Withdrawal Report", "Author": "Jane Doe", "CreationDate": "D:20160314"}
    path.write_bytes(make_pdf(["Page one says hello.", "Page two says goodbye."], info))
    document = read_one(path)
    assert document.format == "pdf"
    assert len(document.pages) == 2
    first, second = document.pages
    assert first == 0
    assert document.text[first:].startswith("Page one says hello.")
    assert document.text[second:].startswith("Page two says goodbye.")
    assert document.text[second - 2 : second] == "\n\n"
    assert (document.title, document.author, document.date) == (
        "Withdrawal Report",
        "Jane Doe",
        "2016-03-14",
    )


# --- JSON Lines ---------------------------------------------------------------------------


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        json.dumps({"_id": "a1", "title": "First", "text": "Alpha text.", "date": "2024-12-13"}),
        "",
        "{not json",
        json.dumps(
            {
                "body": "Beta text.",
                "published_at": "2024-12-14T08:00:00Z",
                "source": "Wire",
                "url": "https://x.test/b",
                "author": "Ann",
            }
        ),
        json.dumps(["a", "list"]),
        json.dumps({"id": 7, "text": "Gamma text."}),
        json.dumps({"title": "no text"}),
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    warnings: list[str] = []
    documents = read(path, tmp_path, warnings=warnings)
    assert [d.id for d in documents] == ["feed.jsonl#a1", "feed.jsonl#4", "feed.jsonl#7"]
    first, second, third = documents
    assert (first.title, first.text, first.date) == ("First", "Alpha text.", "2024-12-13")
    assert second.text == "Beta text."
    assert second.date == "2024-12-14T08:00:00+00:00"
    assert (second.source, second.url, second.author) == ("Wire", "https://x.test/b", "Ann")
    assert third.text == "Gamma text."
    assert all(d.format == "jsonl" and d.path == str(path) for d in documents)
    assert warnings == [
        "feed.jsonl:3: not valid JSON",
        "feed.jsonl:5: not a JSON object",
        'feed.jsonl:7: no "text" or "body" string',
    ]


def test_jsonl_with_no_valid_record_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("[1]\n{oops\n", encoding="utf-8")
    assert reason_of(path) == "no valid JSON record (line 1: not a JSON object)"


# --- every way a file can be bad ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.txt", b"text\x00with nul", "binary file"),
        ("a.md", b"", "empty file"),
        ("a.txt", b" \n\t\n", "empty file"),
        ("a.txt", b"caf\xe9 latin-1", "not valid UTF-8 text"),
        ("a.md", b"\xff\xfeu\x00t\x00f\x00", "binary file"),
        ("a.png", b"\x89PNG\r\n", "unsupported file type .png"),
        ("README", b"text", "unsupported file type (no extension)"),
        ("a.html", b"<html><body><script>x()</script></body></html>", "no article text found"),
        ("a.jsonl", b"\n\n", "empty file"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert reason_of(path) == reason


@pytest.mark.parametrize(
    "content",
    [b"not a pdf at all", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", None],
    ids=["no-header", "header-only", "truncated"],
)
def test_malformed_pdf(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "a.pdf"
    whole = make_pdf(["Some text here."])
    path.write_bytes(content if content is not None else whole[: len(whole) // 2])
    assert reason_of(path).startswith("malformed PDF: ")


def test_encrypted_pdf(tmp_path: Path) -> None:
    import io

    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "locked.pdf"
    path.write_bytes(buffer.getvalue())
    assert reason_of(path) == "encrypted PDF (needs a password)"


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("x" * 2000)
    assert reason_of(path, max_bytes=1000) == "larger than 1 kB limit"
    assert read_one(path, max_bytes=2000).text == "x" * 2000
    assert reason_of(path, max_bytes=500) == "larger than 500 bytes limit"


def test_default_size_limit_reason(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:  # sparse: no 50 MB written
        handle.truncate(50_000_001)
    assert reason_of(path) == "larger than 50 MB limit"


def test_unreadable_paths(tmp_path: Path) -> None:
    # A folder named like a file fails to read even as root, where chmod cannot.
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert reason_of(folder) == "cannot read: Is a directory"
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "missing.txt")
    assert reason_of(link) == "cannot read: No such file or directory"


def test_read_error_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root chmod 000 blocks nothing, so make the open itself fail the way it would.
    path = tmp_path / "secret.txt"
    path.write_text("hidden")

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    assert reason_of(path) == "cannot read: Permission denied"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden")
    path.chmod(0)
    try:
        assert reason_of(path) == "cannot read: Permission denied"
    finally:
        path.chmod(0o600)


def test_fifo_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    assert reason_of(path) == "not a regular file"  # and the test does not hang


# --- walk() -------------------------------------------------------------------------------


def test_walk_recursion_hidden_and_order(tmp_path: Path) -> None:
    for name in ["b.txt", "a/z.md", "a/b/c.html", ".hidden.txt", ".git/x.txt", "a/.d/y.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "c.png").write_bytes(b"\x89PNG")
    found = list(walk([tmp_path]))
    root = tmp_path.resolve()
    assert found == [
        (root / "a/b/c.html", root),
        (root / "a/z.md", root),
        (root / "b.txt", root),
        (root / "c.png", root),  # read() rejects it, with a reason the user sees
    ]
    assert list(walk([tmp_path])) == found


def test_walk_file_argument_and_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("x")
    assert list(walk([path, path])) == [(path.resolve(), tmp_path.resolve())]
    with pytest.raises(FileNotFoundError):
        list(walk([path, tmp_path / "nope"]))


def test_walk_does_not_follow_directory_symlinks(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("x")
    (tmp_path / "d" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "d" / "link.txt").symlink_to(tmp_path / "d" / "a.txt")
    root = tmp_path.resolve()
    assert list(walk([tmp_path])) == [(root / "d/a.txt", root), (root / "d/link.txt", root)]


def test_walk_yields_an_unlistable_folder_for_read_to_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("x")
    (tmp_path / "b.txt").write_text("x")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)) == locked.resolve():
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    root = tmp_path.resolve()
    assert list(walk([tmp_path])) == [(root / "b.txt", root), (root / "locked", root)]
    assert reason_of(root / "locked", root) == "cannot read folder: Permission denied"


def test_walk_then_read_gives_relative_ids(tmp_path: Path) -> None:
    shutil.copy(seed("003"), tmp_path / "x.txt")
    (tmp_path / "sub").mkdir()
    shutil.copy(seed("004"), tmp_path / "sub" / "y.txt")
    ids = [d.id for file, root in walk([tmp_path]) for d in read(file, root)]
    assert ids == ["sub/y.txt", "x.txt"]


# --- excluded_spans() ---------------------------------------------------------------------


def test_spans_are_whole_short_lines_not_sentences() -> None:
    text = (
        "Readers who subscribe to the paper were told to share with your friends.\n"
        "Subscribe to our newsletter\n"
    )
    (span,) = excluded_spans(text)
    assert text[span[0] : span[1]] == "Subscribe to our newsletter"


def test_near_duplicate_paragraph_is_excluded() -> None:
    first = "The minister said the troops would leave the base within a month, officials said."
    later = "The minister said the troops would leave the base within one month, officials said."
    other = "A completely different paragraph about the weather in the region this week."
    text = f"{first}\n\n{other}\n\n{later}\n"
    assert excluded_spans(text) == ((text.index(later), text.index(later) + len(later)),)


def test_adjacent_excluded_lines_merge() -> None:
    text = "Body sentence here.\n\nFollow Us\n\nLeave a Reply\n"
    start = text.index("Follow")
    assert excluded_spans(text) == ((start, text.index("Reply") + len("Reply")),)


def assert_valid_spans(text: str, spans: tuple[tuple[int, int], ...]) -> None:
    previous_end = -1
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert start > previous_end  # sorted, disjoint, and not touching
        previous_end = end


# --- properties ---------------------------------------------------------------------------

_PROPERTY = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_FUZZ_SUFFIXES = sorted(SUPPORTED_SUFFIXES - {".htm", ".markdown"})


@_PROPERTY
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(_FUZZ_SUFFIXES))
def test_read_never_raises_anything_but_unreadable_file(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        documents = read(path, tmp_path, warnings=[])
    except UnreadableFile as error:
        assert not error.reason.startswith("internal error"), error.reason
        return
    for document in documents:
        assert document.text.strip()
        assert_valid_spans(document.text, document.excluded)


@_PROPERTY
@given(
    text=st.lists(
        st.sampled_from(
            [
                "Share with your friends",
                "Follow Us",
                "The troops left the base today at dawn.",
                "",
                " ",
                "\n",
                "pic.twitter.com/x1",
                "—",
                "Russia to Withdraw All Troops",
            ]
        )
        | st.text(max_size=40),
        max_size=30,
    ).map("\n".join)
)
def test_excluded_spans_are_valid_for_any_text(text: str) -> None:
    assert_valid_spans(text, excluded_spans(text))


@_PROPERTY
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(["text", "body", "title", "date", "id", "_id", "url"]),
            st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans()),
        ),
        max_size=6,
    )
)
def test_jsonl_fuzz(tmp_path: Path, records: list[dict[str, object]]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    try:
        documents = read(path, tmp_path, warnings=[])
    except UnreadableFile as error:
        assert not error.reason.startswith("internal error"), error.reason
        return
    assert len({d.id for d in documents}) == len(documents)

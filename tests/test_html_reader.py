"""The HTML reader's own behaviours: the headline as title, a date from the text where
the markup has none (and said to be from the text), boilerplate left out of chunks while
the body stays, hidden copies left out, a split article body joined, stray NUL bytes,
and offsets that still index Document.text exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assistant.chunk import chunk_document
from assistant.errors import UnreadableFile
from assistant.ingest import read
from assistant.ingest.clean import html_excluded_spans
from assistant.ingest.common import Source
from assistant.ingest.htmlfile import read_html
from assistant.types import Document

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"

BODY = """
<p>Russian President Vladimir Putin on Monday announced that his country would begin
withdrawing its military personnel from Syria beginning on Tuesday, a surprise move.</p>
<p>The announcement was made on the same day that peace talks between various factions
in the Syrian Civil War began in Geneva, under the auspices of the United Nations.</p>
<p>Officials in Moscow said the air base at Hmeimim and the naval facility at Tartus
would continue to operate, and that the S-400 systems would stay in place for now.</p>
"""


def page(head: str = "", body: str = BODY, before: str = "", after: str = "") -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8">{head}</head><body>'
        f'<nav><a href="/">Home</a> <a href="/world">World</a></nav>{before}'
        f"<article>{body}</article>{after}<footer>Copyright Example Corporation</footer>"
        "</body></html>"
    )


def read_page(tmp_path: Path, html: str | bytes, name: str = "page.html") -> Document:
    path = tmp_path / name
    if isinstance(html, str):
        path.write_text(html, encoding="utf-8")
    else:
        path.write_bytes(html)
    (document,) = read(path, tmp_path)
    return document


def read_source(html: str) -> Document:
    return read_html(Source(html.encode("utf-8"), "/saved/page.html", "page.html"))


def chunked(document: Document) -> str:
    kept, begin = [], 0
    for start, end in document.excluded:
        kept.append(document.text[begin:start])
        begin = end
    kept.append(document.text[begin:])
    return "".join(kept)


# --- title ---------------------------------------------------------------------------


def test_title_is_the_heading_not_the_title_tag_with_site_and_section(tmp_path: Path) -> None:
    head = "<title>Russia pulls out of Syria - Example News | World</title>"
    body = "<h1>Russia pulls out of Syria</h1>" + BODY
    assert read_page(tmp_path, page(head, body)).title == "Russia pulls out of Syria"


def test_site_name_heading_loses_to_the_headline_heading(tmp_path: Path) -> None:
    head = (
        "<title>Russia pulls out of Syria | The Daily Example</title>"
        '<meta property="og:title" content="Russia pulls out of Syria">'
    )
    before = "<header><h1>The Daily Example</h1></header>"
    body = "<h1>Russia pulls out of Syria</h1>" + BODY
    assert read_page(tmp_path, page(head, body, before)).title == "Russia pulls out of Syria"


def test_heading_is_taken_as_printed_when_it_agrees_with_og_title(tmp_path: Path) -> None:
    # og:title has "&", the page's headline "und": the reader sees the headline.
    head = '<meta property="og:title" content="Minions malen - mit Rolle &amp; Farbe">'
    body = "<h1>Minions malen – mit Rolle und Farbe</h1>" + BODY
    assert read_page(tmp_path, page(head, body)).title == "Minions malen – mit Rolle und Farbe"


def test_without_an_agreeing_heading_the_site_name_is_cut_from_og_title(tmp_path: Path) -> None:
    head = (
        '<meta property="og:title" content="Russia pulls out of Syria - The Daily Example">'
        '<meta property="og:site_name" content="The Daily Example">'
    )
    body = "<h2>Latest</h2>" + BODY
    assert read_page(tmp_path, page(head, body)).title == "Russia pulls out of Syria"


def test_a_title_that_merely_contains_a_dash_is_kept_whole(tmp_path: Path) -> None:
    head = '<meta property="og:title" content="Syria - the withdrawal explained">'
    assert read_page(tmp_path, page(head)).title == "Syria - the withdrawal explained"


# --- date ----------------------------------------------------------------------------


def test_markup_date_is_used(tmp_path: Path) -> None:
    head = '<meta property="article:published_time" content="2016-03-14T10:00:00Z">'
    body = BODY + "<p>This follows the events of 2 January 2015, reported earlier.</p>"
    document = read_page(tmp_path, page(head, body))
    assert document.date is not None and document.date.startswith("2016-03-14")


def test_date_written_only_in_the_page_is_found(tmp_path: Path) -> None:
    before = '<div class="byline">Posted on March 14, 2016 by Jane Doe</div>'
    document = read_page(tmp_path, page(before=before))
    assert document.date is not None and document.date.startswith("2016-03-14")


def test_page_without_any_date_has_none(tmp_path: Path) -> None:
    assert read_page(tmp_path, page()).date is None


def test_the_date_says_whether_it_came_from_the_markup_or_the_text() -> None:
    meta = '<meta property="article:published_time" content="2016-03-14T10:00:00Z">'
    byline = '<div class="byline">Posted on March 14, 2016 by Jane Doe</div>'  # a date element
    prose = "<p>Reported from Moscow on March 14, 2016, by our correspondent there.</p>"
    assert read_source(page(meta)).date_source == "markup"
    assert read_source(page(before=byline)).date_source == "markup"
    from_text = read_source(page(body=BODY + prose))
    assert from_text.date == "2016-03-14" and from_text.date_source == "text"
    assert read_source(page()).date_source is None


PROSE_DATE = "<p>Reported from Moscow on March 14, 2016, by our correspondent there.</p>"


def test_where_a_date_came_from_is_indexed_cited_and_shown(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from assistant import Library, render
    from assistant.embed import HashEmbedder

    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "text.html").write_text(page(body=BODY + PROSE_DATE), encoding="utf-8")
    (folder / "listed.html").write_text(
        page(body=BODY.replace("Putin", "Medvedev") + PROSE_DATE), encoding="utf-8"
    )
    (folder / "manifest.csv").write_text("file,date\nlisted.html,2016-03-15\n", encoding="utf-8")
    with Library(tmp_path / "index", embedder=HashEmbedder(), entities="off") as lib:
        lib.add([folder])
        docs = {d.id: d for d in lib.documents()}
        assert (docs["pages/text.html"].date, docs["pages/text.html"].date_source) == (
            "2016-03-14",
            "text",
        )
        assert (docs["pages/listed.html"].date, docs["pages/listed.html"].date_source) == (
            "2016-03-15",
            "manifest",
        )
        assert render.source_json(docs["pages/text.html"])["date_source"] == "text"
        shown = StringIO()
        render.sources_table(list(docs.values()), Console(file=shown, width=200))
        assert "2016-03-14 (from the text)" in shown.getvalue()
        assert "2016-03-15 (from the text)" not in shown.getvalue()

        answer = lib.ask("When did Putin announce the withdrawal of military personnel from Syria?")
        cited = {c.document: c for c in answer.citations}
        assert cited["pages/text.html"].date_source == "text"
        assert {c["document"]: c["date_source"] for c in render.answer_json(answer)["sources"]} == {
            d: c.date_source for d, c in cited.items()
        }
        text = StringIO()
        render.answer_view(answer, Console(file=text, width=200))
        assert "2016-03-14 (from the text)" in text.getvalue()

        # Without its manifest row the page's own date and label come back, and nothing is embedded.
        (folder / "manifest.csv").write_text("file,date\n", encoding="utf-8")
        report = lib.add([folder])
        assert report.chunks == 0
        listed = {d.id: d for d in lib.documents()}["pages/listed.html"]
        assert (listed.date, listed.date_source) == ("2016-03-14", "text")


# --- what is chunked -----------------------------------------------------------------

# Teasers that trafilatura keeps (a linked headline and a word or two after it).
TEASERS = """
<p><a href="/a">Oil prices rise after the Syria announcement in Moscow</a> Video</p>
<p><a href="/b">Peace talks in Geneva enter their second week</a> Video</p>
<p><a href="/c">What the Tartus naval facility means for the region</a> Video</p>"""


def test_headline_line_and_teaser_links_are_excluded_while_the_body_stays(tmp_path: Path) -> None:
    head = '<meta property="og:title" content="Russia pulls out of Syria">'
    body = "<h1>Russia pulls out of Syria</h1>" + BODY + TEASERS
    document = read_page(tmp_path, page(head, body))
    assert document.text.lstrip().startswith("Russia pulls out of Syria")
    assert "Oil prices rise after the Syria announcement" in document.text
    kept = chunked(document)
    assert "Russia pulls out of Syria" not in kept
    assert "Oil prices rise" not in kept
    for sentence in (
        "Putin on Monday announced",
        "peace talks between various factions",
        "the S-400 systems would stay",
    ):
        assert sentence in " ".join(kept.split())


def test_two_link_lines_in_a_row_are_excluded_one_amid_prose_is_not() -> None:
    links = {"Menu", "Sports", "Weather for the week ahead"}
    text = (
        "Menu\nSports\nA paragraph of the article, long enough to be prose.\n"
        "Weather for the week ahead\nAnother paragraph of the article, the last one."
    )
    spans = html_excluded_spans(
        text, is_headline=lambda line: False, is_link=lambda line: line in links
    )
    assert [text[s:e] for s, e in spans] == ["Menu\nSports"]
    spans = html_excluded_spans(
        text + "\nSports", is_headline=lambda line: False, is_link=lambda line: line in links
    )
    assert [text[s:e] for s, e in spans][-1] != "Weather for the week ahead"
    assert (text + "\nSports")[spans[-1][0] : spans[-1][1]] == "Sports"


def test_one_linked_paragraph_amid_prose_is_kept(tmp_path: Path) -> None:
    linked = '<p><a href="/x">Officials expect the talks in Geneva to last several weeks</a></p>'
    body = BODY.replace("<p>Officials", linked + "<p>Officials")
    document = read_page(tmp_path, page(body=body))
    assert "talks in Geneva to last several weeks" in chunked(document)


def test_embedded_post_and_a_repeated_line_stay_in_chunks(tmp_path: Path) -> None:
    # Article bodies of real pages (scrapinghub-aeb) include both.
    body = (
        BODY
        + "<p>Eat every two to three hours.</p><p>Breakfast is oats with berries and milk.</p>"
        + "<p>Eat every two to three hours.</p><p>Lunch is a salad with beans and feta.</p>"
        + "<blockquote><p>The talks begin today pic.twitter.com/abc123</p>"
        + "<p>— UN Geneva (@UNGeneva) March 14, 2016</p></blockquote>"
    )
    kept = " ".join(chunked(read_page(tmp_path, page(body=body))).split())
    assert kept.count("Eat every two to three hours.") == 2
    assert "(@UNGeneva) March 14, 2016" in kept


def test_chunk_offsets_index_the_text_verbatim_and_skip_excluded_spans(tmp_path: Path) -> None:
    head = '<meta property="og:title" content="Russia pulls out of Syria">'
    body = "<h1>Russia pulls out of Syria</h1>" + BODY + TEASERS
    document = read_page(tmp_path, page(head, body))
    assert document.excluded
    for start, end in document.excluded:
        assert 0 <= start < end <= len(document.text)
    chunks = chunk_document(document, lambda texts: [len(t.split()) for t in texts], max_tokens=30)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == document.text[chunk.start : chunk.end]
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end
            assert document.text[start:end].strip() == document.text[start:end]
        assert not any(chunk.start < e and s < chunk.end for s, e in document.excluded)


# --- what the page hides, and an article in parts ----------------------------------

# A schema.org copy of the article that the page hides (seen on real news pages).
HIDDEN_COPY = (
    '<div style="display: none;" itemscope itemtype="http://schema.org/NewsArticle">'
    '<div itemprop="datePublished">2016-03-14T10:00:00Z</div>'
    '<div itemprop="articleBody">' + BODY.replace("<p>", "").replace("</p>", "\n") + "</div></div>"
)


def test_a_hidden_copy_of_the_article_is_left_out_and_its_date_still_read() -> None:
    read = read_source(page(after=HIDDEN_COPY))
    assert read.text.count("Putin on Monday announced") == 1
    assert read.date == "2016-03-14" and read.date_source == "markup"


def test_a_page_hidden_until_a_script_shows_it_is_still_read() -> None:
    html = page(before='<div id="app" style="DISPLAY:NONE">', after="</div>")
    assert "Putin on Monday announced" in read_source(html).text


SECOND_PART = """
<p>Analysts in Washington said the move caught the administration by surprise and that
its consequences for the region were not yet clear to anyone in the government.</p>
<p>Diplomats at the United Nations welcomed the announcement but cautioned that the
ceasefire remained fragile in several provinces in the north of the country.</p>
<p>The Kremlin did not say how many of the roughly four thousand troops stationed in the
country would return home this month, or when the rest would follow them.</p>
"""


def test_an_article_split_into_containers_by_an_ad_is_read_whole() -> None:
    def part(paragraphs: str) -> str:
        return f'<div class="grid"><div class="body article__body">{paragraphs}</div></div>'

    rail = (
        '<aside class="rail"><div class="ad">Advertisement</div><ul>'
        '<li><a href="/x">Most popular story of the day on this site</a></li></ul></aside>'
    )
    html = page(
        body=part(BODY)
        + rail
        + '<div class="ad"><span>Advertisement</span></div>'
        + part(SECOND_PART)
    )
    text = " ".join(read_source(html).text.split())
    for sentence in (
        "Putin on Monday announced",
        "the S-400 systems would stay",
        "Analysts in Washington said",
        "when the rest would follow them",
    ):
        assert sentence in text


# --- bytes ---------------------------------------------------------------------------


def test_a_stray_nul_byte_does_not_refuse_the_page(tmp_path: Path) -> None:
    html = page().encode("utf-8").replace(b"Putin on", b"Putin\x00 on", 1)
    document = read_page(tmp_path, html)
    assert "Putin on Monday announced" in document.text
    assert "\x00" not in document.text


def test_a_file_full_of_nul_bytes_is_binary(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="binary file"):
        read_page(tmp_path, b"<html>" + b"\x00\x01\x02\x03" * 500 + b"</html>")


def test_utf16_page_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    html = page().replace('<meta charset="utf-8">', "").encode("utf-16")
    assert "Putin on Monday announced" in read_page(tmp_path, html).text


# --- the benchmark -------------------------------------------------------------------


@pytest.mark.skipif(not (BENCHMARKS / "trafilatura-eval").is_dir(), reason="no saved-page sets")
def test_webpages_benchmark_scores_twenty_pages_of_each_set(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import webpages

    # 20 pages: the AEB scorer's bootstrap needs some non-empty predictions in every resample.
    results = webpages.main(
        [
            "--limit",
            "20",
            "--skip-timing",
            "--json",
            str(tmp_path / "w.json"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert all(results[name]["pages"] == 20 for name in ("aeb", "htmldate", "trafilatura"))
    assert 0 < results["aeb"]["chunked"]["precision"] <= 1
    assert results["htmldate"]["tp"] + results["htmldate"]["fp"] <= 20
    # Markup dates are a subset of every date.
    assert results["htmldate"]["markup"]["tp"] <= results["htmldate"]["tp"]
    assert results["htmldate"]["labelled"]["recall"] == results["htmldate"]["recall"]
    assert results["trafilatura"]["meta"]["title"]["scored"] > 0
    assert any("assistant, chunked text" in row for row in results["table"])

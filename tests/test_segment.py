import pytest

from nli_check.pipeline.segment import Segmenter, detect_format


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter(max_words=120)


def texts(result):
    return [s.text for s in result.sentences]


def test_abbreviations_decimals_and_quotes_do_not_split(segmenter):
    text = 'Dr. Smith paid $3.50 for the U.S. report. He said "It is done." Then he left!'
    result = segmenter.segment(text)
    assert texts(result) == ['Dr. Smith paid $3.50 for the U.S. report.', 'He said "It is done."', "Then he left!"]


def test_offsets_point_into_the_original_text(segmenter):
    text = "First line without a stop\nSecond sentence here.  Third one?\n\nFourth."
    result = segmenter.segment(text)
    assert texts(result) == ["First line without a stop", "Second sentence here.", "Third one?", "Fourth."]
    for sentence in result.sentences:
        assert text[sentence.start:sentence.end] == sentence.text


def test_markdown_markup_is_stripped_but_offsets_stay_in_the_file(segmenter):
    text = "---\ntitle: T\nsources: [a.txt]\n---\n# A *big* day\n\nThe **ministry** said [it](http://x.y) grew.\n- item one\n"
    result = segmenter.segment(text, fmt="markdown")
    assert texts(result) == ["A big day", "The ministry said it grew.", "item one"]
    assert text[result.sentences[1].start:result.sentences[1].end] == "The **ministry** said [it](http://x.y) grew."


def test_html_scripts_dropped_entities_decoded_offsets_kept(segmenter):
    text = "<html><head><title>x</title><style>p{}</style></head><body><h1>Title &amp; more</h1>" \
           "<p>First sentence here. Second&nbsp;one.</p><script>alert(1)</script></body></html>"
    result = segmenter.segment(text, fmt="html")
    assert texts(result) == ["Title & more", "First sentence here.", "Second one."]  # whitespace normalised
    first = result.sentences[0]
    assert text[first.start:first.end] == "Title &amp; more"


def test_overlong_sentence_is_windowed_and_reported(segmenter):
    text = " ".join(f"word{i}" for i in range(300)) + "."
    result = segmenter.segment(text, name="long.txt")
    assert [len(s.text.split()) for s in result.sentences] == [120, 120, 60]
    assert len(result.warnings) == 1 and "long.txt" in result.warnings[0] and "3 windows" in result.warnings[0]
    # nothing lost: the windows cover every word
    assert " ".join(texts(result)) == text


def test_unknown_format_names_the_accepted_ones(segmenter):
    with pytest.raises(ValueError, match="text, markdown, html"):
        segmenter.segment("x", fmt="pdf")


@pytest.mark.parametrize("name,text,expected", [
    ("a.md", "plain", "markdown"), ("a.HTML", "x", "html"), ("a.txt", "<p>x</p>", "text"),
    (None, "<!DOCTYPE html><html>", "html"), (None, "Just words.", "text"),
])
def test_detect_format(name, text, expected):
    assert detect_format(name, text) == expected

"""The page reader of `tests/html.py` on the HTML our templates write: elements found by id,
`data-testid` and class, end tags the page omits, text as a reader sees it, table rows and cells."""

import pytest

from tests import html

PAGE = """<!doctype html><html><head><title>Leaderboard</title><script>var score = "23.00";</script></head>
<body><p>Submitted Sun 29 November, 23.00 <strong>PDT</strong><p id="own">Your team <b>Alpha</b>: rank 1
<table id="board" class="results wide"><thead><tr><th>#<th>Team<th>PSNR</thead>
<tbody><tr id="team-1"><td>1<td>Alpha &amp; Co<td>23.00<tr id="team-2"><td>2</td><td>Beta</td><td>22.10</td></tr>
</tbody><tfoot><tr><th scope="row">Best</th><td></td><td>23.00</td></tr></tfoot></table>
<ul data-testid="notes"><li>one<br>line<li>two</ul><input name="shown_at" value="23.00"></body></html>"""


def test_text_of_an_element_by_id_or_testid_with_omitted_end_tags():
    assert html.text(PAGE, id="own") == "Your team Alpha: rank 1"
    assert html.text(PAGE, data_testid="notes") == "one line two"
    assert html.text(PAGE, id="missing") is None


def test_a_script_is_not_text():
    assert html.text(PAGE, "head") == "Leaderboard"  # the script's "23.00" is not read as text


def test_table_rows_cells_and_class_match():
    assert html.table(PAGE, id="board") == [
        ["1", "Alpha & Co", "23.00"],
        ["2", "Beta", "22.10"],
        ["Best", "", "23.00"],
    ]
    assert html.cells(PAGE, id="team-2") == ["2", "Beta", "22.10"]
    assert html.element(PAGE, "table", class_="wide").attrs["id"] == "board"
    assert html.element(PAGE, "table", class_="wid") is None


def test_a_missing_table_or_row_fails_the_test():
    with pytest.raises(AssertionError, match="no element"):
        html.table(PAGE, id="nothing")
    with pytest.raises(AssertionError, match="no row"):
        html.cells(PAGE, id="team-3")


def test_line_with_finds_one_line_of_a_document():
    text = "Rank Team PSNR\n1 Team Alpha 23.10\n2 Team Beta 22.50\nTeam Alpha"
    assert html.line_with(text, "1 Team Alpha") == "1 Team Alpha 23.10"
    with pytest.raises(AssertionError, match="2 lines"):
        html.line_with(text, "Team Alpha")

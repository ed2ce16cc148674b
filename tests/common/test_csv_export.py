"""The one CSV writer neutralises cells a spreadsheet would run as formulas, and keeps numbers."""

import csv
import io

from common.csv_export import csv_response, csv_text, safe_cell


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_formula_cells_are_neutralised():
    attacks = ['=HYPERLINK("http://evil.example/","open")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
    attacks += ["\t=1+1", "\r=1+1"]
    rows = read(csv_text([attacks]))
    assert rows == [["'" + a for a in attacks]]


def test_numbers_and_plain_text_are_written_as_they_are():
    rows = read(csv_text([[1, -2.5, "-3.5", "+1e-3", "Team Alpha", "a-b", None]], header=["n", "x"]))
    assert rows == [["n", "x"], ["1", "-2.5", "-3.5", "+1e-3", "Team Alpha", "a-b", ""]]
    assert safe_cell(-7) == -7


def test_the_response_is_an_attachment():
    response = csv_response("board.csv", [["=1+1"]], header=["method"])
    assert response["Content-Disposition"] == 'attachment; filename="board.csv"'
    assert read(response.content.decode()) == [["method"], ["'=1+1"]]

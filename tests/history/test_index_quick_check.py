"""`index.damage` on SQLite's `quick_check` answers (found by the mutation check, issue 22:
`problems[:3]` -> `[:4]` at index.py:146 passed).

A badly damaged file makes `quick_check` list a problem per broken page, thousands of
them; the message names the first three. The answers are scripted (a real file cannot be
damaged into an exact number of problems).
"""

import pytest

from keras_accuracy_kit.history import index


class QuickCheckAnswers:
    """A connection whose `PRAGMA quick_check` answers `rows`; anything else is unexpected."""

    def __init__(self, rows):
        self.rows = rows

    def execute(self, sql):
        assert sql == "PRAGMA quick_check", sql
        return self

    def fetchall(self):
        return [(row,) for row in self.rows]


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([f"page {n} is never used" for n in range(1, 101)],
         "page 1 is never used; page 2 is never used; page 3 is never used"),
        (["a", "b", "c", "d"], "a; b; c"),
        (["a", "b"], "a; b"),
    ],
)  # fmt: skip
def test_a_damaged_index_is_described_by_its_first_three_problems(rows, expected):
    assert index.damage(QuickCheckAnswers(rows)) == expected


def test_an_intact_index_has_no_damage(tmp_path):  # the real quick_check
    connection = index.connect(str(tmp_path / "index.sqlite"), create=True)
    try:
        assert index.damage(connection) is None
    finally:
        connection.close()

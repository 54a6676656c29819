"""The comparison table and its CSV: every number read back exactly, n/a for what does not apply."""
import math
import subprocess
import sys

import pytest

import otcore
from otcore.compare import COLUMNS, CompareConfig, Comparison, make_problem, read_table_csv, table_csv, table_rows, write_table_csv


@pytest.fixture(scope="module")
def results():
    p, q = otcore.random_gaussian(2, seed=1), otcore.random_gaussian(2, seed=2)
    problem = make_problem(p.sample(600, seed=0), q.sample(600, seed=1), CompareConfig(exact_points=200, particles=20),
                           gaussians=(p, q))
    comparison = Comparison(problem, ["exact", "entropic", "closed-form"])
    list(comparison.run())
    return list(comparison.results.values())


def _same(a, b):
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def test_table_csv_round_trips_through_a_file(results, tmp_path):
    rows = table_rows(results)
    assert [r["method"] for r in rows] == ["exact", "entropic", "closed-form"]
    assert rows[0]["cost_ratio"] == pytest.approx(1.0, rel=1e-12)
    path = write_table_csv(tmp_path / "out" / "compare.csv", results)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(COLUMNS) and "n/a" in text
    back = read_table_csv(text)
    assert len(back) == len(rows)
    for row, read in zip(rows, back):
        assert all(_same(row[c], read[c]) for c in COLUMNS), (row, read)
    assert table_csv(back) == text


def test_notes_with_commas_and_quotes_survive(results):
    row = dict(table_rows(results[:1])[0], note='a, "quoted" note; ε = 0.1\nsecond line')
    assert read_table_csv(table_csv([row]))[0]["note"] == row["note"]


def test_a_csv_of_something_else_is_refused():
    with pytest.raises(ValueError, match="not a comparison table"):
        read_table_csv("a,b\n1,2\n")


def test_importing_otcore_compare_does_not_import_streamlit():
    code = "import sys, otcore.compare; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

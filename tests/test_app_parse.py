import numpy as np
import pytest

from ui.parse import ParseError, format_matrix, parse_matrix, parse_vector


def test_vectors():
    np.testing.assert_array_equal(parse_vector("1, 2 3", 3), [1, 2, 3])
    np.testing.assert_array_equal(parse_vector("2.5", 4), [2.5] * 4)
    with pytest.raises(ParseError, match="expected 3 numbers"):
        parse_vector("1, 2", 3)
    with pytest.raises(ParseError, match=r"entry 2 \('x'\) is not a number"):
        parse_vector("1, x, 3", 3)


def test_matrices_round_trip_and_must_be_covariances():
    m = np.array([[2.0, 0.5], [0.5, 1.0]])
    np.testing.assert_array_equal(parse_matrix(format_matrix(m), 2), m)
    np.testing.assert_array_equal(parse_matrix("3", 2), 3 * np.eye(2))
    np.testing.assert_array_equal(parse_matrix("1 0\n0 1", 2), np.eye(2))
    with pytest.raises(ParseError, match="symmetric"):
        parse_matrix("1, 2; 0, 1", 2)
    with pytest.raises(ParseError, match="positive definite"):
        parse_matrix("1, 2; 2, 1", 2)
    with pytest.raises(ParseError, match="row 2 has 1 numbers"):
        parse_matrix("1, 0; 1", 2)
    with pytest.raises(ParseError, match="expected 3 rows"):
        parse_matrix("1, 0; 0, 1", 3)
    with pytest.raises(ParseError, match="finite"):
        parse_vector("nan", 2)

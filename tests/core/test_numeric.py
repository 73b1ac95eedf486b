"""core.numeric.sigmoid: the one logistic function (BlazePose scores and masks, the faces pair
classifier)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.numeric import sigmoid


@pytest.mark.parametrize("dtype, limit", [(np.float32, 87), (np.float64, 708)])
def test_exact_formula_inside_the_limit_and_no_overflow_outside(dtype, limit):
    inside = np.linspace(-limit, limit, 20001).astype(dtype)
    with np.errstate(all="raise"):  # no overflow, no underflow, no invalid value anywhere
        got = sigmoid(inside)
        far = sigmoid(np.array([-1e30, -10 * limit, -limit - 0.5, limit + 0.5, 1e30], dtype))
    assert got.dtype == dtype and far.dtype == dtype
    assert np.array_equal(got, 1 / (1 + np.exp(-inside)))  # bit for bit the textbook formula
    assert np.all(far[:3] == got[0]) and np.all(far[:3] >= np.finfo(dtype).tiny)
    assert np.all(far[3:] == 1.0)
    assert np.all(np.diff(got) >= 0) and got[len(got) // 2] == 0.5


def test_matches_the_maths_and_its_symmetry():
    for x in (-30.0, -5.0, -0.1, 0.0, 0.1, 2.0, 30.0):
        assert sigmoid(x) == pytest.approx(1 / (1 + math.exp(-x)), rel=1e-15)
        assert sigmoid(x) + sigmoid(-x) == pytest.approx(1.0, abs=1e-15)


def test_scalars_and_integers_are_computed_in_float64():
    assert sigmoid(3).dtype == np.float64 and sigmoid(np.array([-5, 5])).dtype == np.float64
    assert float(sigmoid(np.float64(0))) == 0.5
    assert np.isnan(sigmoid(np.nan)) and sigmoid(np.inf) == 1.0 and 0 < sigmoid(-np.inf) < 1e-300

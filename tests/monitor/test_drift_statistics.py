"""The drift rule's error rates, with fixed seeds, at 1,000, 100,000 and 1,000,000 rows.

Each size draws 101 independent samples of one mixed distribution (numbers, a count, a
boolean, categories) and compares neighbours: 100 comparisons of two independent samples,
at most 5 of which may call the dataset drifted. A 0.5-standard-deviation shift of one
numeric column's mean, and a 20-point change of one category's share, must each be found at
every size, naming that column only. Profiles keep this cheap: each sample is profiled once.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nbprod.monitor.drift import compare
from nbprod.monitor.profile import Profile, profile_frame

SHARES = np.array([0.4, 0.3, 0.2, 0.1])
CATEGORIES = ["north", "south", "east", "west"]


def sample(rng: np.random.Generator, rows: int, *, shift: float = 0.0,
           share: float = 0.0) -> Profile:
    shifted = SHARES + np.array([-share, share, 0.0, 0.0])
    frame = pd.DataFrame({
        "income": rng.normal(50_000 + shift * 12_000, 12_000, rows),
        "age": rng.gamma(4.0, 10.0, rows),
        "visits": rng.poisson(3.0, rows),
        "member": rng.random(rows) < 0.3,
        "region": pd.Categorical.from_codes(rng.choice(4, size=rows, p=shifted), CATEGORIES),
        "plan": pd.Categorical.from_codes(rng.choice(4, size=rows, p=SHARES), CATEGORIES),
    })
    return profile_frame(frame, "sample")


SIZES = [1_000, 100_000, pytest.param(1_000_000, marks=pytest.mark.slow)]


@pytest.mark.parametrize("rows", SIZES)
def test_independent_samples_of_one_distribution_rarely_drift(rows: int) -> None:
    rng = np.random.default_rng(20261201 + rows)
    profiles = [sample(rng, rows) for _ in range(101)]
    drifted = [compare(a, b).drifted for a, b in itertools.pairwise(profiles)]
    assert len(drifted) == 100
    assert sum(drifted) <= 5


@pytest.mark.parametrize("rows", SIZES)
def test_a_half_sd_mean_shift_and_a_20_point_share_change_are_detected(rows: int) -> None:
    rng = np.random.default_rng(7 + rows)
    reference = sample(rng, rows)
    mean_shift = compare(reference, sample(rng, rows, shift=0.5))
    assert mean_shift.drifted and mean_shift.drifted_columns == ["income"]
    share_change = compare(reference, sample(rng, rows, share=0.2))
    assert share_change.drifted and share_change.drifted_columns == ["region"]
    statistics = {c.column: c.statistic for c in mean_shift.columns}
    if rows <= 1000:
        assert statistics == {"income": "ks", "age": "ks", "visits": "chi2",
                              "member": "chi2", "region": "chi2", "plan": "chi2"}
    else:
        assert statistics["income"] == "wasserstein"
        assert statistics["region"] == "jensenshannon"

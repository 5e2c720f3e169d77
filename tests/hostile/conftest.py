"""Hypothesis profiles for the fuzz targets of the hostile-input suite.

`ci` (the default, what `make test` runs) keeps each fuzz target to a couple hundred examples;
`fuzz` (`HYPOTHESIS_PROFILE=fuzz`, what `make fuzz` sets) runs thousands, randomised. The
fuzz targets apply the chosen profile themselves (`test_fuzz.PROFILE`), so the rest of the
suite keeps Hypothesis's defaults.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5000")),
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

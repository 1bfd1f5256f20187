"""Suite-wide configuration: hypothesis profiles, a headless plotting backend, our plugin."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import HealthCheck, settings  # noqa: E402

# The CI profile is deterministic (derandomize) and has no deadline: the first call of a
# numba kernel compiles, which would otherwise trip hypothesis's per-example deadline.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


import suptheory.testing._plugin as _suptheory_plugin  # noqa: E402


def pytest_configure(config):  # noqa: D103
    # suptheory's own pytest plugin (the embedding_file fixture, the "suptheory" profile):
    # installed with pip it is loaded through its pytest11 entry point; from a source checkout
    # (or with -p suptheory.testing._plugin) it may not be, so register it here once.
    if not config.pluginmanager.is_registered(_suptheory_plugin):
        config.pluginmanager.register(_suptheory_plugin, "suptheory")

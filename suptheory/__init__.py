"""suptheory: the calculator for superposition in neural networks.

How much features interfere when more of them are packed into a layer than it has neurons,
how many fit at a given sparsity, and how many activation levels a read-out can still tell
apart -- from closed forms, checked against Monte Carlo, trained toy models and real weights.

This file is the table of contents: every public name, nothing else. The subpackages are the
layers, each importing only from those above it in this list:

- ``suptheory.theory``: closed forms and exact laws (never imports numba);
- ``suptheory.symbolic``: sympy twins of the closed forms;
- ``suptheory._kernels``: numba-compiled kernels (private);
- ``suptheory.analysis``: a given embedding -- loading, exact coherence, metrics, ``analyze``;
- ``suptheory.empirical``: Monte Carlo twins, the toy-model trainer, the packing optimiser;
- ``suptheory.runs``: ``check`` (theory against experiment), sweeps and their store;
- ``suptheory.cli``, ``suptheory.plots``, ``suptheory.render``: the interfaces;
  ``suptheory.testing`` (assertions, and with hypothesis installed its ``strategies``) is one
  too, for users' own tests: ``from suptheory.testing import strategies``.

The theory layer is imported here; everything below it is imported on first use.
"""

import importlib as _importlib
from typing import Any as _Any

__version__ = "0.1.0"

# --- theory: random overlaps, JL, bounds, compressed sensing ---
from suptheory.theory.overlaps import overlap_distribution, overlap_tail, log_overlap_tail  # noqa: I001
from suptheory.theory.overlaps import max_coherence_cdf, max_coherence_random
from suptheory.theory.overlaps import expected_max_coherence_random, max_coherence_asymptotic
from suptheory.theory.jl import JL_CONVENTIONS, jl_min_dim, jl_eps, linsefors_eps
from suptheory.theory.bounds import welch_bound, higher_order_welch_bound, orthoplex_bound
from suptheory.theory.bounds import levenshtein_bound, coherence_lower_bound, gerzon_bound
from suptheory.theory.bounds import rank_bound, rank_max_features, greedy_existence
from suptheory.theory.bounds import log_greedy_existence, kabatiansky_levenshtein_rate
from suptheory.theory.bounds import kabatiansky_levenshtein_cheap
from suptheory.theory.compressed_sensing import cs_phase_transition

# --- theory: read-out models, capacity at a density, solve, calculate ---
from suptheory.theory.readout import bits_per_feature, distinguishable_levels  # noqa: I001
from suptheory.theory.readout import interference, log_max_features, max_active
from suptheory.theory.readout import max_features, min_width, pair_interference
from suptheory.theory.readout import readout_error, capacity_error
from suptheory.theory.interference_law import interference_distribution
from suptheory.theory.density import capacity_at_density
from suptheory.theory.report import Report, calculate

# --- theory: toy models on 1-sparse data: the k-gon critical points ---
from suptheory.theory.kgons import kgon, kgon_loss, one_sparse_loss, dead_feature_loss
from suptheory.theory.solve import NoSolutionError, solve


# Everything below the theory layer, imported on first use (PEP 562): `import suptheory`
# loads neither numba nor sqlite3, dask, matplotlib or scipy.stats.
_LAZY: dict[str, str] = {
    # a given embedding: loading, exact coherence, per-feature metrics, analyze
    "load_embedding": "suptheory.analysis.loading",
    "coherence": "suptheory.analysis.coherence",
    "CoherenceResult": "suptheory.analysis.coherence",
    "overlap_histogram": "suptheory.analysis.coherence",
    "overlap_quantiles": "suptheory.analysis.coherence",
    "feature_dimensionality": "suptheory.analysis.metrics",
    "dimensions_per_feature": "suptheory.analysis.metrics",
    "superposition": "suptheory.analysis.metrics",
    "frame_potential": "suptheory.analysis.metrics",
    "row_norms": "suptheory.analysis.metrics",
    "zero_rows": "suptheory.analysis.metrics",
    "rms_overlap": "suptheory.analysis.metrics",
    "pair_statistics": "suptheory.analysis.pairs",
    "PairStatistics": "suptheory.analysis.pairs",
    "analyze": "suptheory.analysis.analyze",
    "EmbeddingReport": "suptheory.analysis.analyze",
    "compare": "suptheory.analysis.compare",
    "Comparison": "suptheory.analysis.compare",
    # ground truth: Monte Carlo of the decoding task itself over whole dictionaries
    "simulate_decoding": "suptheory.empirical.decoding",
    "DecodingSimulation": "suptheory.empirical.decoding",
    "harmonic_frame": "suptheory.empirical.decoding",
    # Monte Carlo twins of the closed forms (seeded, estimates with standard errors)
    "simulate_interference": "suptheory.empirical.simulate",
    "simulate_levels": "suptheory.empirical.simulate",
    "simulate_max_levels": "suptheory.empirical.simulate",
    "simulate_max_coherence": "suptheory.empirical.simulate",
    "InterferenceSimulation": "suptheory.empirical.simulate",
    "LevelsSimulation": "suptheory.empirical.simulate",
    "MaxLevelsSimulation": "suptheory.empirical.simulate",
    "MaxCoherenceSimulation": "suptheory.empirical.simulate",
    # toy models of superposition (Elhage et al. 2022): the trainer and its presets
    "train_toy_models": "suptheory.empirical.toy_models",
    "ToyModelResult": "suptheory.empirical.toy_models",
    "TOY_MODELS": "suptheory.empirical.toy_models",
    "PRESETS": "suptheory.empirical.toy_models",
    "toy_preset": "suptheory.empirical.toy_models",
    "DATA_LAWS": "suptheory.empirical.toy_models",
    "snapshot_steps": "suptheory.empirical.toy_models",
    # packing optimiser and the geometry of solutions (sticky dimensionalities, tegum factors)
    "optimize_packing": "suptheory.empirical.packing",
    "PackingResult": "suptheory.empirical.packing",
    "STICKY_DIMENSIONALITIES": "suptheory.empirical.geometry",
    "nearest_sticky": "suptheory.empirical.geometry",
    "classify_dimensionality": "suptheory.empirical.geometry",
    "DimensionalityClasses": "suptheory.empirical.geometry",
    "tegum_factors": "suptheory.empirical.geometry",
    "describe_geometry": "suptheory.empirical.geometry",
    "GeometrySummary": "suptheory.empirical.geometry",
    "set_cosines": "suptheory.empirical.geometry",
    "SetCosines": "suptheory.empirical.geometry",
    # theory against experiment; sweeps over grids and their store
    "check": "suptheory.runs.check",
    "CheckReport": "suptheory.runs.check",
    "CheckRow": "suptheory.runs.check",
    "check_kgon_plateaus": "suptheory.runs.plateaus",
    "PlateauCheck": "suptheory.runs.plateaus",
    "PlateauRow": "suptheory.runs.plateaus",
    "detect_plateaus": "suptheory.runs.plateaus",
    "Plateau": "suptheory.runs.plateaus",
    "polygon_geometry": "suptheory.runs.plateaus",
    "PolygonGeometry": "suptheory.runs.plateaus",
    "sweep": "suptheory.runs.sweep",
    "grid_points": "suptheory.runs.sweep",
    "point_seed": "suptheory.runs.sweep",
    "ResultStore": "suptheory.runs.store",
    # interfaces: pictures and readings in words
    "plot_toy_models": "suptheory.plots.toy",
    "plot_training_dynamics": "suptheory.plots.toy",
    "plot_embedding_report": "suptheory.plots.embedding",
    "explain": "suptheory.render.explain",
}

__all__ = [
    "__version__", "overlap_distribution", "overlap_tail", "log_overlap_tail",
    "max_coherence_cdf", "max_coherence_random", "expected_max_coherence_random",
    "max_coherence_asymptotic", "JL_CONVENTIONS", "jl_min_dim", "jl_eps", "linsefors_eps",
    "welch_bound", "higher_order_welch_bound", "orthoplex_bound", "levenshtein_bound",
    "coherence_lower_bound", "gerzon_bound", "rank_bound", "rank_max_features",
    "greedy_existence", "log_greedy_existence", "kabatiansky_levenshtein_rate",
    "kabatiansky_levenshtein_cheap",
    "cs_phase_transition", "bits_per_feature", "distinguishable_levels", "interference",
    "log_max_features", "max_active", "max_features", "min_width", "pair_interference",
    "readout_error", "capacity_error", "interference_distribution",
    "capacity_at_density", "Report", "calculate", "kgon", "kgon_loss", "one_sparse_loss",
    "dead_feature_loss", "NoSolutionError", "solve", "load_embedding",
    "coherence", "CoherenceResult", "overlap_histogram", "overlap_quantiles",
    "feature_dimensionality", "dimensions_per_feature", "superposition", "frame_potential",
    "row_norms", "zero_rows", "rms_overlap", "pair_statistics", "PairStatistics", "analyze",
    "EmbeddingReport", "compare", "Comparison", "simulate_interference",
    "simulate_levels", "simulate_max_levels", "simulate_max_coherence",
    "InterferenceSimulation", "LevelsSimulation", "MaxLevelsSimulation",
    "MaxCoherenceSimulation", "simulate_decoding", "DecodingSimulation", "harmonic_frame",
    "train_toy_models", "ToyModelResult", "TOY_MODELS", "PRESETS",
    "toy_preset", "DATA_LAWS", "snapshot_steps", "optimize_packing", "PackingResult",
    "STICKY_DIMENSIONALITIES",
    "nearest_sticky", "classify_dimensionality", "DimensionalityClasses", "tegum_factors",
    "describe_geometry", "GeometrySummary", "set_cosines", "SetCosines", "check", "CheckReport",
    "CheckRow", "check_kgon_plateaus", "PlateauCheck", "PlateauRow", "detect_plateaus",
    "Plateau", "polygon_geometry", "PolygonGeometry", "sweep",
    "grid_points", "point_seed", "ResultStore", "plot_toy_models",
    "plot_training_dynamics", "plot_embedding_report", "explain",
]  # fmt: skip


def __getattr__(name: str) -> _Any:
    """Import a public name of a lower layer on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'suptheory' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (the lazy ones included), not the module's private helpers."""
    return sorted(__all__)

"""Several ways to transport one P onto one Q, side by side (the app's Compare page).

Every method runs as a step-wise iterator of :class:`MethodStep` whose last item carries a
:class:`MethodResult`: the same particles (the problem's ``drawn``) at the same times, and the
readouts of the table (cost against the exact discrete OT cost, fit, straightness, inversion
error, seconds). Streamlit-free; the app drives :class:`Comparison` in a background job.

>>> problem = make_problem(P, Q, CompareConfig(flow_seconds=12), gaussians=None)
>>> comparison = Comparison(problem)
>>> for step in comparison.run(): ...
>>> table_csv(table_rows(comparison.results.values()))
"""
from .comparison import Comparison
from .entropic import barycentric_map
from .exact import exact_pairs
from .flows import FLOW_VARIANTS, variant_config
from .problem import CompareConfig, Problem, fitted_gaussian, make_problem
from .registry import METHODS, Method, run_method
from .result import MatchedPairs, MethodResult, MethodStep
from .static import straight_paths
from .table import COLUMNS, read_table_csv, table_csv, table_rows, write_table_csv

__all__ = ["Comparison", "CompareConfig", "Problem", "make_problem", "fitted_gaussian", "METHODS", "Method",
           "run_method", "MethodResult", "MethodStep", "MatchedPairs", "FLOW_VARIANTS", "variant_config",
           "exact_pairs", "barycentric_map", "straight_paths", "COLUMNS", "table_rows", "table_csv",
           "read_table_csv", "write_table_csv"]

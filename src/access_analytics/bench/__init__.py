"""Benchmark of the build at fleet scale, with baselines that must give our marts' numbers."""

# Every step of `access-analytics bench`, in the order it runs them.
STEPS = (
    "generate",
    "build_models",
    "build_with_tests",
    "charts",
    "build_incremental",
    "pandas",
    "floor",
)

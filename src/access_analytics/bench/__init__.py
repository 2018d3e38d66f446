"""Benchmark of the build at fleet scale, with baselines that must give our marts' numbers."""

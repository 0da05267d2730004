"""Model-free benchmarks: datasets, mutation pools, selection metrics."""

from .humaneval import Problem, load_problems

__all__ = ["Problem", "load_problems"]

"""Benchmarks: each measures a figure against a baseline taken in the same run.

``make bench`` (``python -m bench``) runs every module here that defines ``run()`` and prints one
summary table of figure, target and ratio. Benchmarks are not tests: they never pass or fail
on timing, they report.
"""

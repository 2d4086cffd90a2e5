"""Regression tests of notebooks with nbval: saved outputs against fresh ones.

nbval runs in-process through pytest with nbprod's plugin, which adds what nbval lacks:
numeric tolerance for floats in text and HTML outputs (DataFrames), the choice to compare or
skip images, and results that name the notebook cell (0-based, all cells) with a short diff.
"""

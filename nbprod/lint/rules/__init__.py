"""nbprod's built-in lint rules, one module each.

They are registered like third-party rules, through the ``nbprod.lint_rules`` entry-point
group in pyproject.toml; nothing here is imported by a registry at import time.
"""

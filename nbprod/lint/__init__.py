"""``nbprod lint``: production-readiness rules for notebooks, plus ruff on their code.

Rules are small classes following :class:`~nbprod.lint.model.LintRule`, registered through the
``nbprod.lint_rules`` entry-point group (built-in ones too); :class:`~.catalog.RuleSet` holds
the ones in use. :func:`~.engine.lint_files` runs them with ruff, applies the settings of
:class:`~.config.LintConfig` and ``# nbprod: noqa`` comments, and caches results per file
content.
"""

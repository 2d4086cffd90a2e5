"""Jobs: notebooks run in order as one job run, built into immutable, numbered versions.

:mod:`.spec` reads ``[tool.nbprod.jobs.NAME]``; :mod:`.bundle` builds a version's manifest and
stores its notebooks and environment lock content-addressed, and materializes them to run;
:mod:`.lock` pins the environment.
"""

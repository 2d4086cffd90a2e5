"""The lint cache's key changes when the linter's code does (an editable install, a rule or a
helper edited in place): results cached by older code are not served."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from nbprod.api.lint import _code_stamp
from nbprod.lint import engine, schema
from nbprod.lint.catalog import RuleSet
from nbprod.lint.rules import _shell, secret_source
from nbprod.notebook import version


@pytest.mark.parametrize("module", [schema, engine, _shell, secret_source, version],
                         ids=lambda m: m.__name__)
def test_editing_the_code_changes_the_stamp(module: ModuleType) -> None:
    rules = RuleSet.from_entry_points()
    before = _code_stamp(rules)
    path = Path(str(module.__file__))
    stat = path.stat()
    try:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert _code_stamp(rules) != before
    finally:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _code_stamp(rules) == before

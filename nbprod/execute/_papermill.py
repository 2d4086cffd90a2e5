"""papermill's engine pieces, imported without its remote-storage backends.

``import papermill`` loads ``papermill.iorw``, which tries every optional I/O backend it knows
(pyarrow's HDFS, gcsfs, PyGithub, boto3, Azure): ~0.2 s when they are installed, in every
run. nbprod hands papermill notebook objects, never paths or URLs, so those backends are never
used. They are hidden only while papermill is imported, and only if not loaded already: the
packages stay importable for everyone else afterwards.
"""

from __future__ import annotations

import sys

_OPTIONAL_BACKENDS = ("pyarrow", "pyarrow.fs", "gcsfs", "github", "boto3", "botocore",
                      "azure", "azure.storage", "azure.datalake", "azure.identity")

_hidden = [name for name in _OPTIONAL_BACKENDS if name not in sys.modules]
for _name in _hidden:
    sys.modules[_name] = None  # type: ignore[assignment]
try:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NotebookExecutionManager
finally:
    for _name in _hidden:
        if sys.modules.get(_name, ...) is None:
            del sys.modules[_name]

__all__ = ["NotebookExecutionManager", "PapermillNotebookClient"]

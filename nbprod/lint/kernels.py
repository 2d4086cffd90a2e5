"""The names of the Jupyter kernels installed here, found cheaply.

The same folders jupyter_client's KernelSpecManager searches (``jupyter --paths``, ``kernels``
subfolders holding a ``kernel.json``), plus ipykernel's built-in ``python3``, without importing
jupyter_client.
"""

from __future__ import annotations

import importlib.util
import os


def installed_kernels() -> frozenset[str]:
    from jupyter_core.paths import jupyter_path

    names: set[str] = set()
    for folder in jupyter_path("kernels"):
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            if os.path.isfile(os.path.join(folder, entry, "kernel.json")):
                names.add(entry.lower())
    if importlib.util.find_spec("ipykernel") is not None:
        names.add("python3")
    return frozenset(names)

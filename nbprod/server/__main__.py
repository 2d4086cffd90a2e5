"""``python -m nbprod.server [DIR] [jupyter options]``: what ``nbprod serve`` runs.

DIR (default: the working folder) is the project; every other argument is jupyter_server's
(``--ServerApp.port=8890``, ``--IdentityProvider.token=...``, ``--allow-root``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    from .app import NbprodApp

    args = list(sys.argv[1:] if argv is None else argv)
    folder = os.getcwd()
    if args and not args[0].startswith("-"):
        folder = os.path.abspath(args.pop(0))
        if not os.path.isdir(folder):
            sys.exit(f"nbprod serve: error: {folder} is not a folder; give a project folder")
    NbprodApp.launch_instance(  # type: ignore[no-untyped-call]
        argv=[f"--NbprodApp.project_dir={folder}", f"--ServerApp.root_dir={folder}", *args])


if __name__ == "__main__":
    main()

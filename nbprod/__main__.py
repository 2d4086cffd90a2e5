"""``python -m nbprod``: the same as the ``nbprod`` command."""

from __future__ import annotations

from .cli.launch import main

if __name__ == "__main__":
    main()

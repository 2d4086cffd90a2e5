"""The command-line interface: a thin layer over :mod:`nbprod.api`."""

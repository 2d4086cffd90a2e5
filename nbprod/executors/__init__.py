"""Where runs and checks execute: local worker processes (and, later, Dask)."""

"""nbprod's version (a module of its own: anything may import it, nothing heavy comes along)."""

__version__ = "0.1.0"

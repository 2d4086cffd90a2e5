"""Templates shipped with nbprod: ``project/`` (``nbprod init``), ``notebooks/`` (``nbprod new``)
and ``export/`` (``nbprod job export``). Found through :func:`importlib.resources.files`, so an
installed and an editable nbprod read them the same way."""

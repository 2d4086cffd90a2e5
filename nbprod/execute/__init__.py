"""One run: papermill as the engine, kernel supervision, capture of values and files.

Only this package imports papermill, nbclient and nbconvert. Its ``__init__`` imports nothing
so that ``import nbprod`` inside a kernel (which loads ``execute.capture``) stays cheap.
"""

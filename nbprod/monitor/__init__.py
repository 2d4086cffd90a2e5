"""Watching what ships: data profiles, data checks, drift statistics, job health and alerts.

Pure code over explicit inputs: it reads no settings and no registry (``nbprod.api`` brings
those). It sits below ``execute/`` because ``nbprod.profile`` (in ``execute/capture.py``) calls
the profiler inside the kernel; pandas, scipy, pandera and croniter load only when a module
here that needs them is imported.

- :mod:`.profile`: a bounded-size profile of a pandas DataFrame (``Profile``);
- :mod:`.checks`: data checks (pandera for row-level rules) and ``DataCheckFailed``;
- :mod:`.kernel`: what ``nbprod.profile`` does inside a notebook;
- :mod:`.drift`: per-column drift statistics between two profiles, and the dataset verdict;
- :mod:`.report`: the drift report as HTML (binned summaries only);
- :mod:`.health`: stale, failing and slow scheduled jobs (croniter);
- :mod:`.alerts`: alert payloads and their delivery (webhook, SMTP) with retries.
"""

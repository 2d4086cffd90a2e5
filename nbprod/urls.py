"""The one place a URL is made safe to show: passwords and secret-looking query values masked.

Registry URLs (``postgresql://user:password@host/db``), store URLs and scheduler addresses
appear in messages, logs, ``--json`` output and exported files. Every place that shows one calls
:func:`redact` (or :func:`mask_secrets`, which also says whether anything was masked). It works
on text that does not parse as a URL too: a password is masked whatever else is wrong, since
the messages that show a URL are often the ones saying it is malformed.
"""

from __future__ import annotations

import re

_SECRET_QUERY_KEY = re.compile(r"pass|pwd|secret|token|credential|(^|_)key$|signature",
                               re.IGNORECASE)


def mask_secrets(url: str) -> tuple[str, bool]:
    """``url`` with its password and secret-looking query values replaced by ``***``, and
    whether there was any."""
    head, question, query = url.partition("?")
    query, hash_sign, fragment = query.partition("#")
    secret = False
    scheme, separator, rest = head.partition("://")  # any scheme, even a malformed one
    if separator:
        # The userinfo ends at the last "@": a password may hold "/", "@" or ":" unencoded.
        userinfo, at, hostpath = rest.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if at and colon and password:
            head = f"{scheme}://{user}:***@{hostpath}"
            secret = True
    items = []
    for item in query.split("&") if query else []:
        key, equals, value = item.partition("=")
        if equals and value and _SECRET_QUERY_KEY.search(key):
            value, secret = "***", True
        items.append(f"{key}{equals}{value}")
    masked = head + (question + "&".join(items) if question else "") + hash_sign + fragment
    return masked, secret


def redact(url: str) -> str:
    """``url`` safe to show (``user:secret@host`` -> ``user:***@host``)."""
    return mask_secrets(url)[0]

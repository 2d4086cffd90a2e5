"""NBP303: a credential printed in a cell's saved outputs."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._secrets import find_secrets


class SecretInOutput:
    """Credentials must not be saved in outputs.

    Outputs are committed and stored with every run like the source: a token printed by
    ``print(os.environ)``, echoed by ``!env``, shown in a connection error's traceback or in
    a DataFrame is leaked to every reader. The patterns are those of NBP302 (cloud keys,
    tokens, private keys, passwords in connection strings and assignments), searched in
    stream output, ``text/plain``, ``text/html``, JSON data and error tracebacks.

    Revoke the credential, stop printing it, and clear the outputs (``nbprod lint --fix``).

    Bad:  a cell ``print(os.environ)`` whose output shows ``AWS_ACCESS_KEY_ID``.
    Good: the cell removed, the outputs cleared, the key rotated.
    """

    code = "NBP303"
    name = "secret-in-output"
    severity: Severity = "error"
    summary = "a credential appears in a cell's outputs"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        for cell in notebook.code_cells:
            if not cell.outputs:
                continue
            seen: set[tuple[str, str]] = set()
            for position, text in cell.output_texts():
                for secret in find_secrets(text):
                    if (secret.kind, secret.value) in seen:
                        continue  # a traceback repeats it; say it once per cell
                    seen.add((secret.kind, secret.value))
                    yield finding(self, notebook, f"{secret.kind} in output {position} "
                                  f"({secret.redacted}): revoke it and clear outputs",
                                  cell=cell.index, fixable=True)

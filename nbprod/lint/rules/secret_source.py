"""NBP302: a credential (cloud key, token, password, private key) in a cell's source."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._secrets import find_secrets, may_hold_secrets
from ._source import line_at


class SecretInSource:
    """Credentials must not be written in notebooks.

    A notebook is committed, shared, rendered on GitHub and copied into every run record:
    a key written in a cell (code or markdown) is leaked to everyone who can read any of
    them, for as long as the history exists. Reported: AWS access key ids and secret keys,
    GitHub, Slack, Google API and Stripe live keys, private key blocks, passwords in
    connection strings (``postgresql://user:PASSWORD@host``) and string literals of 8+
    characters assigned to ``password``, ``secret``, ``token`` or ``api_key`` names.
    Placeholders (``"<token>"``, ``"${DB_PASSWORD}"``, ``"***"``) are not.

    Revoke the credential first (it is already leaked), then read it at run time from the
    environment or a secret manager.

    Bad:  ``conn = connect("postgresql://etl:hunter2hunter2@db/sales")``
    Good: ``conn = connect(os.environ["SALES_DB_URL"])``
    """

    code = "NBP302"
    name = "secret-in-source"
    severity: Severity = "error"
    summary = "a credential is written in a cell's source"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        if not may_hold_secrets("\n".join(c.source for c in notebook.cells)):
            return
        for cell in notebook.cells:
            for secret in find_secrets(cell.source):
                yield finding(self, notebook, f"{secret.kind} in the source "
                              f"({secret.redacted}): revoke it and read it from the "
                              "environment", cell=cell.index,
                              line=line_at(cell.source, secret.start))

"""Errors nbprod raises on purpose.

Every error the user can cause or meet derives from :class:`NbprodError`, carries its own
process exit code and renders as one line: what failed, where, and what to do. The CLI catches
them in exactly one place (``nbprod.cli.main``); anything else is a bug and shows a traceback.

    NbprodError                    exit 70 (internal)
    ├── InvalidInput               exit 2  the user's input is wrong; nothing ran
    │   ├── NotebookInvalid            malformed, truncated or schema-invalid .ipynb
    │   ├── ParameterError             unknown / mistyped / unsafe parameter
    │   ├── SettingsError              bad [tool.nbprod] settings or NBPROD_* value
    │   ├── KernelNotFound             no kernelspec with that name
    │   ├── NotFound                   no such run, notebook or input file
    │   └── WouldOverwrite             scaffolding would replace existing files
    ├── NotebookFailed             exit 3  the notebook ran and failed (cell error, dead kernel,
    │                                      timeout); carries the run id and the Failure
    ├── GateFailed                 exit 5  a promotion's gates did not pass (all results attached)
    ├── NotAllowed                 exit 6  the user's role does not allow the action
    ├── Conflict                   exit 7  someone else moved the stage first; nothing changed
    └── InfraError                 exit 4  nbprod's own machinery failed (registry, store,
        ├── RegistryError                  kernel start); retrying may help
        ├── StoreError
        │   └── IntegrityError             a stored artifact's hash does not match
        │       └── ArtifactsCorrupt           a run's artifacts missing or modified
        ├── KernelStartError
        │   └── KernelNotReady             (also a RuntimeError, as jupyter_client expects)
        └── ReportError                    the HTML report renderer is unavailable
    ExportTemplateError            exit 70 an exporter's template is broken (a bug)

Third-party errors are translated where they enter (``raise ... from exc``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported: the launcher of every command imports this
if TYPE_CHECKING:
    from typing import Any, ClassVar

# Exit codes, also listed in ``nbprod --help``.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INVALID_INPUT = 2
EXIT_NOTEBOOK_FAILED = 3
EXIT_INFRA = 4
EXIT_GATE_FAILED = 5
EXIT_NOT_ALLOWED = 6
EXIT_CONFLICT = 7
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 2 invalid input (bad notebook, parameter, setting or name); "
    "3 the notebook failed (cell error, dead kernel, timeout); 4 infrastructure failure "
    "(registry, store, kernel start); 5 a promotion gate failed; 6 not allowed (role); "
    "7 conflict (someone else moved the stage first); 70 internal error (a bug: please "
    "report it); 130 interrupted."
)


class NbprodError(Exception):
    """Base class: a known failure with a one-line message and an exit code."""

    exit_code: ClassVar[int] = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message a user sees: what failed, where, and what to do."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


class InvalidInput(NbprodError):
    exit_code = EXIT_INVALID_INPUT


class NotebookInvalid(InvalidInput):
    """The .ipynb file cannot be read, parsed or validated."""

    def __init__(self, path: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {reason}", hint=hint)
        self.path = path
        self.reason = reason


class ParameterError(InvalidInput):
    """A parameter given by the user does not fit the notebook's contract."""

    def __init__(self, message: str, *, parameter: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.parameter = parameter


class SettingsError(InvalidInput):
    pass


class KernelNotFound(InvalidInput):
    pass


class NotFound(InvalidInput):
    pass


class WouldOverwrite(InvalidInput):
    """Writing a scaffold (``nbprod init``, ``nbprod new``) would replace existing files."""

    def __init__(self, message: str, *, paths: tuple[str, ...], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.paths = paths


class NotebookFailed(NbprodError):
    """The notebook was executed and its run ended ``failed``."""

    exit_code = EXIT_NOTEBOOK_FAILED

    def __init__(self, message: str, *, run_id: str, kind: str) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.kind = kind


class InfraError(NbprodError):
    exit_code = EXIT_INFRA


class RegistryError(InfraError):
    pass


class StoreError(InfraError):
    pass


class IntegrityError(StoreError):
    """A stored artifact no longer matches the SHA-256 recorded for it."""

    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(
            f"artifact {key} is corrupt: recorded sha256 {expected}, found {actual}",
            hint="the store was modified outside nbprod; re-run to produce it again",
        )
        self.key = key
        self.expected = expected
        self.actual = actual


class ArtifactsCorrupt(IntegrityError):
    """``nbprod show --verify``: artifacts of a run that are missing or no longer match.

    ``problems`` holds ``(name, recorded sha256, found sha256 or None when missing)``.
    """

    def __init__(self, run_id: str, problems: list[tuple[str, str, str | None]]) -> None:
        first, expected, actual = problems[0]
        found = f"found {actual}" if actual else "it is missing"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        StoreError.__init__(self, f"run {run_id}: artifact {first} does not match its record: "
                            f"recorded sha256 {expected}, {found}{more}",
                            hint="the store was changed outside nbprod; re-run to produce it "
                                 "again")
        self.key, self.expected, self.actual = first, expected, actual or ""
        self.run_id = run_id
        self.problems = problems


class KernelStartError(InfraError):
    pass


class KernelNotReady(KernelStartError, RuntimeError):
    """A kernel that did not start or answer. Also a RuntimeError: that is how jupyter_client
    and nbclient report one, and what they clean up after."""


class ReportError(InfraError):
    """The HTML report cannot be rendered (nbconvert failed to load)."""


class ExportTemplateError(NbprodError):
    """An exporter's template failed to render: a bug in the template, not the user's input."""


class GateFailed(NbprodError):
    """A promotion was refused because gates failed; ``results`` holds every gate's verdict."""

    exit_code = EXIT_GATE_FAILED

    def __init__(self, message: str, *, results: list[Any], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.results = results


class NotAllowed(NbprodError):
    """The user's role does not allow this action (or it would be approving their own work)."""

    exit_code = EXIT_NOT_ALLOWED


class Conflict(NbprodError):
    """A concurrent change won (a stage moved, a version number was taken); retry."""

    exit_code = EXIT_CONFLICT

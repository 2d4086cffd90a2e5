"""``--target docker``: a Dockerfile that installs the version's lock and the project.

Writes ``Dockerfile``, the lock next to it (``requirements.lock``, ``uv.lock``...), and the
ignore file twice: ``.dockerignore`` (used when the output folder is the build context) and
``Dockerfile.dockerignore`` (used by BuildKit for ``docker build -f <out>/Dockerfile .``). The
build context is the project folder, so the output folder must be inside it.
"""

from __future__ import annotations

from ..errors import InvalidInput
from .base import ExportContext, render


class DockerExporter:
    name = "docker"
    summary = "Dockerfile (python:3.11-slim, the version's lock, non-root) and .dockerignore"

    def files(self, context: ExportContext) -> dict[str, str]:
        if context.out_in_project is None:
            raise InvalidInput(
                "the docker target needs --out inside the project folder: the Dockerfile is "
                "built with the project as its context and copies the lock from --out",
                hint=f"nbprod job export {context.job} --target docker --out deploy")
        prefix = "" if context.out_in_project == "." else f"{context.out_in_project}/"
        ignore = render("dockerignore.j2", context, self.name)
        return {
            "Dockerfile": render("Dockerfile.j2", context, self.name,
                                 lock_source=f"{prefix}{context.lock_filename}",
                                 dockerfile=f"{prefix}Dockerfile"),
            ".dockerignore": ignore,
            "Dockerfile.dockerignore": ignore,
            context.lock_filename: context.lock_text,
        }

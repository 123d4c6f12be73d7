"""Exceptions of the project folder layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llb_core.io._errors import LlbIoError

if TYPE_CHECKING:
    from llb_core.workspace._import_report import ImportReport


class ProjectError(LlbIoError):
    """A project folder cannot be created, opened, validated or saved."""


class SourceMismatchError(ProjectError):
    """The project's source video/folder is missing or its content changed since the project was made."""


class SourceContentError(SourceMismatchError):
    """The new clip's content differs from the original; `relink(..., force=True)` accepts it."""


class MaskImportError(ProjectError):
    """Importing masks found problems; `report` lists each file and what is wrong with it."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report

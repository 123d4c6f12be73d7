"""The on-disk project: manifest, masks, soft masks, autosave/journal, relink, mask import. No Qt."""

from llb_core.workspace._errors import MaskImportError, ProjectError, SourceContentError, SourceMismatchError
from llb_core.workspace._fingerprint import fingerprint, same_content
from llb_core.workspace._import import import_masks
from llb_core.workspace._import_report import ImportReport
from llb_core.workspace._journal import JOURNAL_NAME, Journal
from llb_core.workspace._manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest, parse_manifest
from llb_core.workspace._project import Project

__all__ = [
    "FORMAT_VERSION",
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "ImportReport",
    "Journal",
    "Manifest",
    "MaskImportError",
    "Project",
    "ProjectError",
    "SourceContentError",
    "SourceMismatchError",
    "fingerprint",
    "import_masks",
    "parse_manifest",
    "same_content",
]

"""`ImportReport`: what a mask import did and what it rejected (its own module so errors can name it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from llb_core.io._masks import MaskIssue


@dataclass
class ImportReport:
    """Outcome of `import_masks`.

    Attributes:
        imported: frame indices whose masks were written.
        new_objects: object ids declared by the import.
        issues: one entry per rejected file, naming the problem and the remedy.
    """

    imported: list[int] = field(default_factory=list)
    new_objects: list[int] = field(default_factory=list)
    issues: list[MaskIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if no file was rejected."""
        return not self.issues

    def __str__(self) -> str:
        lines = [f"{len(self.imported)} frame(s) imported, {len(self.issues)} file(s) rejected"]
        lines += [f"  {issue}" for issue in self.issues]
        return "\n".join(lines)

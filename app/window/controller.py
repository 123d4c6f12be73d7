"""`Studio`: the app's controller. Owns the engine thread, the open `Document`, the preferences, autosave and
the recent-projects list; opens, saves and closes projects and starts runs. It never touches widgets: it
reports through signals (`error`, `info`, `message`), which the main window turns into dialogs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal

from app.engine.engine import Engine, shipped_model_loader
from app.engine.worker import ModelLoader, RunSummary
from app.model.document import Document
from app.model.project_files import declare_found_objects, demo_folder, is_project, open_or_create
from app.window.settings import AppSettings, add_recent, load_settings, save_settings
from llb_core.errors import LLBError
from llb_core.inference import SessionSettings
from llb_core.io import FrameSourceError, ObjectSpec, read_index_mask
from llb_core.resources import demo_clip, demo_mask
from llb_core.workspace import MANIFEST_NAME, Project, ProjectError, SourceContentError, SourceMismatchError

log = logging.getLogger(__name__)

Asker = Callable[[str, str], bool]
Locator = Callable[[str], str | None]  # message -> a path the person picked, or None


def default_data_dir() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or Path.home())


class Studio(QObject):
    """See the module docstring.

    Args:
        qsettings: where preferences live (tests pass an isolated one).
        model_loader: loads the network in the engine thread (default: the shipped weights).
        base_settings: engine settings the preferences are applied on top of.
        data_dir: where projects of read-only clips and the demo project go.
    """

    document_changed = Signal(object)  # Document | None
    error = Signal(str, str, object)  # title, message, exception or None
    info = Signal(str, str)  # title, message
    message = Signal(str)  # for the status bar
    busy_changed = Signal(bool)
    settings_changed = Signal(object)  # AppSettings

    def __init__(
        self,
        qsettings: QSettings | None = None,
        model_loader: ModelLoader | None = None,
        base_settings: SessionSettings | None = None,
        data_dir: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.qsettings = qsettings or QSettings()
        self.settings: AppSettings = load_settings(self.qsettings)
        self.base_settings = base_settings or SessionSettings()
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.ask: Asker = lambda title, question: False  # the main window installs dialogs for these two
        self.locate: Locator = lambda message: None
        self._fixed_model = model_loader is not None  # a given loader wins over the "model" preference
        self.engine = Engine(model_loader or shipped_model_loader(self.settings.model), self)
        self.engine.busy_changed.connect(self.busy_changed)
        self.document: Document | None = None
        self._closed_unwritten: set[Path] = set()  # folders closed while their mask writes were still queued
        self.autosave = QTimer(self)
        self.autosave.timeout.connect(self._autosave)
        self._apply_autosave()

    # -- preferences -----------------------------------------------------------------------------
    def session_settings(self) -> SessionSettings:
        return self.settings.session_settings(self.base_settings)

    def apply_settings(self, settings: AppSettings) -> None:
        """Adopt and store new preferences (engine settings apply from the next run)."""
        if settings.model != self.settings.model and not self._fixed_model:
            self.engine.use_model(shipped_model_loader(settings.model))
        self.settings = settings
        try:
            save_settings(self.qsettings, settings)
        except OSError as err:
            self.error.emit("Preferences not saved", str(err), err)
        if self.document is not None:
            self.document.settings = self.session_settings()
        self._apply_autosave()
        self.settings_changed.emit(settings)

    def _apply_autosave(self) -> None:
        minutes = self.settings.autosave_minutes
        if minutes > 0:
            self.autosave.start(int(minutes * 60_000))
        else:
            self.autosave.stop()

    def _remember(self, folder: Path) -> None:
        self.settings = add_recent(self.settings, str(folder.resolve()))
        try:
            save_settings(self.qsettings, self.settings)
        except OSError as err:
            log.warning("recent projects not saved: %s", err)
        self.settings_changed.emit(self.settings)

    # -- opening and closing ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.engine.busy

    def open_path(self, path: str | Path) -> bool:
        """Open a project folder, or a video file / folder of frames (its project is found or made).

        The open project is closed only once the new one has opened: a failed open leaves it as it was."""
        p = Path(path).expanduser()
        if self.document is not None and self.document.running:
            self.message.emit("Propagation is running: cancel it (Esc) before opening another clip.")
            return False
        try:
            if not p.exists():
                raise FrameSourceError(f"{p}: no such file or folder. Check the path, or pick it in File ▸ Open.")
            folder, create = open_or_create(p, self.data_dir)
            if self.document is not None and self.document.project.folder.resolve() == folder.resolve():
                self.message.emit(f"{folder} is already open.")
                return True
            if not create and folder.resolve() in self._closed_unwritten:
                self.message.emit(f"Finishing the mask writes of {folder.name}...")
                self.engine.wait_for_writes()  # reopening what was just closed: read what it wrote
            project = Project.create(folder, p) if create else self._open_project(folder)
        except (LLBError, OSError) as err:
            self.error.emit("Cannot open", str(err), err)
            return False
        if not self.close_document():
            project.close()
            return False
        self._set_document(project)
        return True

    def _open_project(self, folder: Path) -> Project:
        try:
            project = Project.open(folder)
        except ProjectError as err:
            backup = folder / (MANIFEST_NAME + ".bak")
            question = f"{err}\n\nRestore the project from its last saved backup ({backup.name})?"
            if not backup.exists() or not self.ask("Project damaged", question):
                raise
            project = Project.open(folder, recover=True)
            found = declare_found_objects(project)
            if found:
                project.recovered.append(f"objects {found} found in mask files were declared again")
        try:
            project.source  # noqa: B018 - opens and checks the clip now, so a problem is reported here
        except SourceMismatchError as err:
            try:
                self._relink(project, str(err))
            except BaseException:
                project.close()
                raise
        if project.recovered:
            self.info.emit("Unsaved work recovered", "\n".join(project.recovered))
        return project

    def _relink(self, project: Project, reason: str) -> None:
        """Ask the person where the clip is now and point the project at it (raises if they do not)."""
        path = self.locate(reason)
        if path is None:
            raise SourceMismatchError(reason)
        try:
            project.relink(path)
        except SourceMismatchError as err:
            question = f"{err}\n\nUse {path} anyway (the same footage, re-encoded)?"
            if not isinstance(err, SourceContentError) or not self.ask("Different clip", question):
                raise
            project.relink(path, force=True)

    def relink(self) -> bool:
        """File ▸ Relink source: point the open project at a moved or re-encoded copy of its clip."""
        doc = self.document
        if doc is None or doc.running:
            return False
        try:
            self._relink(doc.project, f"Where is the clip of {doc.project.folder.name} now?")
        except (LLBError, OSError) as err:
            self.error.emit("Source not relinked", str(err), err)
            return False
        doc.engine.set_project(None)
        doc.reattach()
        self.message.emit(f"Source relinked to {doc.project.source_path}")
        return True

    def open_demo(self) -> bool:
        """Open the demo clip's project, made on first use with the demo mask as keyframe 0 of object 1."""
        folder = demo_folder(self.data_dir)
        if is_project(folder):
            return self.open_path(folder)
        if not self.close_document():
            return False
        try:
            project = Project.create(folder, demo_clip(), objects=[ObjectSpec.default(1, "bunny")])
            mask = read_index_mask(demo_mask(), project.size)
        except (LLBError, OSError) as err:
            self.error.emit("Cannot open the demo", str(err), err)
            return False
        doc = self._set_document(project)
        doc.commit_mask(0, mask, "Demo mask")
        doc.undo_stack.clear()  # the demo starts from its keyframe
        return True

    def _set_document(self, project: Project) -> Document:
        doc = Document(project, self.engine, self.session_settings(), self.settings.cache_size)
        doc.run_recorded.connect(self._run_recorded)
        doc.write_failed.connect(self._write_failed)
        self.document = doc
        self._remember(project.folder)
        self.document_changed.emit(doc)
        self.message.emit(f"Opened {project.folder}")
        return doc

    def close_document(self) -> bool:
        """Save and close the open project; False (nothing closed) while a run is in progress."""
        doc = self.document
        if doc is None:
            return True
        if doc.running:
            self.message.emit("Propagation is running: cancel it (Esc) before closing the project.")
            return False
        folder = doc.project.folder.resolve()
        try:
            doc.close()
        except (LLBError, OSError) as err:
            self.error.emit("Could not save the project", f"{err}\nYour masks are kept in the project folder.", err)
        self._closed_unwritten.add(folder)  # its queued mask writes may still be on their way to the disk
        self.engine.after_writes(lambda: self._closed_unwritten.discard(folder))
        self.document = None
        self.document_changed.emit(None)
        doc.deleteLater()
        return True

    def save(self) -> bool:
        if self.document is None:
            return False
        try:
            self.document.save()
        except (LLBError, OSError) as err:
            self.error.emit("Could not save", f"{err}\nFree disk space or check permissions, then save again.", err)
            return False
        self.message.emit(f"Saved {self.document.project.folder}")
        return True

    def _autosave(self) -> None:
        if self.document is not None and not self.document.running:
            self.save()

    def shutdown(self) -> None:
        """Close the project and stop the engine thread (after its queued writes)."""
        if self.document is not None and self.document.running:
            self.engine.cancel()
        self.engine.shutdown()
        if self.document is not None:
            self.close_document()

    # -- propagation -----------------------------------------------------------------------------
    def propagate(self, direction: str = "forward", fill_missing: bool = False) -> bool:
        """Start a run from the current frame ("forward", "backward", "both") or over every missing frame."""
        doc = self.document
        if doc is None:
            return False
        if doc.running:
            self.message.emit("A propagation is already running.")
            return False
        doc.settings = self.session_settings()
        try:
            doc.propagate(direction, fill_missing)
        except ValueError as err:
            self.error.emit("Nothing to propagate", str(err), None)
            return False
        return True

    def cancel(self) -> None:
        if self.engine.busy:
            self.engine.cancel()
            self.message.emit("Cancelling after the frame in progress…")

    def _run_recorded(self, summary: RunSummary) -> None:
        if summary.error:
            self.error.emit("Propagation stopped", summary.error, None)
        elif not summary.frames and not summary.cancelled:
            self.message.emit("Nothing to propagate that way: the clip ends or a keyframe follows right there.")
        elif summary.cancelled:
            self.message.emit(f"Cancelled: {len(summary.frames)} frames propagated (kept).")
        else:
            fps = len(summary.frames) / summary.seconds if summary.seconds > 0 else 0
            self.message.emit(f"Propagated {len(summary.frames)} frames in {summary.seconds:.1f} s ({fps:.1f} fps).")

    def _write_failed(self, message: str) -> None:
        self.error.emit(
            "Masks not written",
            f"{message}\n\nFree disk space or check the project folder's permissions. Your edits are kept in "
            "memory and written again when you save (Ctrl+S).",
            None,
        )

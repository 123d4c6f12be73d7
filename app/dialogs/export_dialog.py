"""`ExportDialog`: choose a format, destination, objects, matte controls and frames; export in a worker thread.

The matte controls start from the viewer's (grow and feather of its `ViewState`), so the export writes what the
viewer's CUTOUT / MATTE modes showed. The frame range starts at the first and ends at the last frame with a mask;
frames without a mask inside it are counted, and skipped, written empty or given the last mask, as chosen.

The export reads the project's masks from disk and its frames through the project's (locked, thread-safe)
frame source, so write pending mask edits before opening the dialog.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.dialogs._export_job import ExportJob, fit_destination, format_info
from app.dialogs._frame_range import FrameRangeBox
from app.dialogs._widgets import muted_label, select_data
from app.view.render import ViewState
from llb_core.io import ExportError, list_images
from llb_core.io.export import FORMATS, ExportOptions, folder_accepts_export, plan_frames
from llb_core.workspace import Project


def _swatch(colour: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


class ExportDialog(QDialog):
    """Export a project. Drive it by hand, or in code with `set_format`, `set_destination` and `start`.

    Args:
        parent: owner window.
        project: what to export (its masks as written on disk).
        view: the viewer's state; its grow and feather are the starting matte controls (None: 0 and 0).

    Signals:
        export_started(ExportJob): a job was created and is about to run; connect to its `progressed` to follow
            it from elsewhere (e.g. a status bar).
        exported(Path): an export finished; the argument is where it went.
        failed(str): an export could not start or stopped on an error; the argument is the message shown.
        cancelled(): an export was cancelled; nothing was written.

    (Not `finished`: QDialog already has that signal for closing.)
    """

    export_started = Signal(object)
    exported = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None, project: Project, view: ViewState | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.project = project
        self.job: ExportJob | None = None
        self.message_box: QMessageBox | None = None  # the last error box (non-blocking), for tests and callers
        self._custom_destination = False  # False while the destination is the default of the current format

        self.format_combo = QComboBox(self)
        for fmt in FORMATS:
            self.format_combo.addItem(format_info(fmt).title, fmt)
        self.format_help = muted_label(self)
        self.destination_edit = QLineEdit(self)
        self.destination_edit.textEdited.connect(self._on_destination_edited)
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        destination = QHBoxLayout()
        destination.addWidget(self.destination_edit, 1)
        destination.addWidget(self.browse_button)

        self.objects_list = QListWidget(self)
        self.objects_list.setIconSize(QSize(14, 14))
        for obj in project.objects:
            item = QListWidgetItem(_swatch(obj.colour), f"{obj.name}  (id {obj.id})")
            item.setData(Qt.ItemDataRole.UserRole, obj.id)
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(Qt.CheckState.Checked)
            self.objects_list.addItem(item)
        row_height = max(self.objects_list.sizeHintForRow(0), self.fontMetrics().height() + 4)  # -1 when empty
        rows = max(1, min(len(project.objects), 6))
        self.objects_list.setFixedHeight(row_height * rows + 2 * self.objects_list.frameWidth())

        self.grow_spin = _spin(-50, 50, " px", "Grow (+) or shrink (-) every object's matte by this many pixels", self)
        self.feather_spin = _spin(0, 50, " px", "Blur every matte edge over this many pixels", self)
        view = view or ViewState()
        self.grow_spin.setValue(view.grow)  # the viewer's matte controls: export what it shows
        self.feather_spin.setValue(view.feather)
        self.range_box = FrameRangeBox(project, project.mask_frames(), self)
        self.bit_depth_combo = QComboBox(self)
        self.bit_depth_combo.addItem("8-bit", 8)
        self.bit_depth_combo.addItem("16-bit", 16)
        self.opacity_spin = _spin(0, 100, " %", "Opacity of the object colours over the frames", self)
        self.opacity_spin.setValue(50)
        self.video_name_edit = QLineEdit(self)
        self.video_name_edit.setPlaceholderText("the destination folder's name")
        self.image_ext_combo = QComboBox(self)
        self.image_ext_combo.setEditable(True)
        self.image_ext_combo.addItems([".jpg", ".png"])
        self.image_ext_combo.setCurrentText(self._source_image_ext())
        self.image_ext_combo.setToolTip("Extension of the frame files named in the COCO 'images' entries")

        self.form = QFormLayout()
        self.form.addRow("&Format:", self.format_combo)
        self.form.addRow("", self.format_help)
        destination_label = QLabel("&Destination:", self)
        destination_label.setBuddy(self.destination_edit)
        self.form.addRow(destination_label, destination)
        self.form.addRow("&Objects:", self.objects_list)
        self.form.addRow("&Grow / shrink:", self.grow_spin)
        self.form.addRow("F&eather:", self.feather_spin)
        frames_label = QLabel("F&rames:", self)
        frames_label.setBuddy(self.range_box.first_spin)
        self.form.addRow(frames_label, self.range_box)
        self.form.addRow("&Bit depth:", self.bit_depth_combo)
        self.form.addRow("Overlay &opacity:", self.opacity_spin)
        self.form.addRow("&Video name:", self.video_name_edit)
        self.form.addRow("&Image names end in:", self.image_ext_combo)

        self.progress = QProgressBar(self)
        self.progress.setFormat("%v / %m frames")
        self.progress.setValue(0)
        self.range_box.changed.connect(self._show_planned)
        self._show_planned()
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.status_label.setOpenExternalLinks(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.close_button = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addSpacing(6)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addStretch(1)  # extra height goes here, not into the form's rows
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self._on_format_changed()

    # -- state -----------------------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        """The chosen format (a key of `FORMATS`)."""
        return self.format_combo.currentData()

    def set_format(self, fmt: str) -> None:
        """Choose `fmt` (a key of `FORMATS`)."""
        select_data(self.format_combo, fmt, "export format", FORMATS)

    def destination(self) -> Path | None:
        """The destination path, or None when the field is empty."""
        text = self.destination_edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_destination(self, path: str | Path) -> None:
        """Use `path` as destination (a folder for PNG formats, a file for videos and COCO), without a chooser."""
        self.destination_edit.setText(str(path))
        self._custom_destination = True

    def selected_objects(self) -> tuple[int, ...]:
        """Ids of the checked objects."""
        items = (self.objects_list.item(i) for i in range(self.objects_list.count()))
        return tuple(it.data(Qt.ItemDataRole.UserRole) for it in items if it.checkState() == Qt.CheckState.Checked)

    def options(self) -> ExportOptions:
        """The export options the widgets show."""
        info = format_info(self.fmt)
        return ExportOptions(
            objects=self.selected_objects(),
            grow=self.grow_spin.value(),
            feather=self.feather_spin.value(),
            bit_depth=self.bit_depth_combo.currentData() if info.bit_depth else 8,
            video_name=(self.video_name_edit.text().strip() or None) if info.video_name else None,
            overlay_opacity=self.opacity_spin.value() / 100.0,
            image_ext=self.image_ext_combo.currentText().strip() or ".jpg",
            frames=self.range_box.frames(),
            missing=self.range_box.policy(),
        )

    @property
    def running(self) -> bool:
        """True while an export runs."""
        return self.job is not None

    # -- actions ---------------------------------------------------------------------------------
    def browse(self) -> None:
        """Pick the destination with a folder or file chooser, depending on the format."""
        info = format_info(self.fmt)
        current = self.destination() or self._default_destination()
        if info.is_folder:
            chosen = QFileDialog.getExistingDirectory(self, "Export into folder", str(current.parent))
            if not chosen:
                return
            path = Path(chosen)
            if not folder_accepts_export(path):  # the exporter would refuse it: export into a new folder inside
                path = path / self._default_destination().name
        else:
            patterns = " ".join(f"*{s}" for s in info.suffixes)
            chosen, _ = QFileDialog.getSaveFileName(self, "Export to file", str(current), f"{info.title} ({patterns})")
            if not chosen:
                return
            path = fit_destination(Path(chosen), self.fmt)
        self.set_destination(path)

    def start(self) -> None:
        """Start exporting with the current choices (does nothing while an export runs)."""
        if self.running:
            return
        out = self.destination()
        if out is not None and fit_destination(out, self.fmt) != out:  # add the extension the format writes
            out = fit_destination(out, self.fmt)
            self.destination_edit.setText(str(out))
        problem = None
        if out is None:
            problem = "Choose a destination first."
        elif not self.selected_objects():
            problem = "Tick at least one object to export."
        else:
            options = self.options()
            try:
                written = len(plan_frames(self.project, options.frames, options.missing, self.range_box.masked).frames)
            except ExportError as err:  # e.g. skipping every frame of the range
                problem = str(err)
        if problem is not None:
            self._show_failure(problem, dialog=False)
            return
        self.job = ExportJob(self.project, self.fmt, out, options, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_succeeded)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(self._on_cancelled)
        self.progress.setRange(0, max(written, 1))
        self.progress.setValue(0)
        self._set_status(f"Exporting to {html.escape(str(out))}…")
        self._set_running(True)
        self.export_started.emit(self.job)
        self.job.start()

    def _show_planned(self) -> None:
        """The progress bar's scale: the frames the current range and policy will write."""
        if self.running:
            return
        try:
            planned = len(
                plan_frames(
                    self.project, self.range_box.frames(), self.range_box.policy(), self.range_box.masked
                ).frames
            )
        except ExportError:
            planned = 0
        self.progress.setRange(0, max(planned, 1))
        self.progress.setValue(0)

    def cancel(self) -> None:
        """Stop the running export after its current frame; partial output is removed."""
        if self.job is not None:
            self.job.cancel()
            self._set_status("Cancelling…")

    def reject(self) -> None:
        """Close, or (while exporting) cancel the export and stay open."""
        if self.running:
            self.cancel()
            return
        super().reject()

    # -- slots -----------------------------------------------------------------------------------
    def _on_format_changed(self, *_: object) -> None:
        info = format_info(self.fmt)
        self.format_help.setText(FORMATS[self.fmt][1])
        for widget, shown in (
            (self.bit_depth_combo, info.bit_depth),
            (self.opacity_spin, info.opacity),
            (self.video_name_edit, info.video_name),
            (self.image_ext_combo, info.image_ext),
        ):
            self.form.setRowVisible(widget, shown)
        self.browse_button.setToolTip("Choose a folder" if info.is_folder else "Choose a file")
        self.range_box.set_video(info.video)
        if self._custom_destination and self.destination() is not None:
            self.destination_edit.setText(str(fit_destination(self.destination(), self.fmt)))
        else:
            self.destination_edit.setText(str(self._default_destination()))
            self._custom_destination = False
        self.adjustSize()

    def _on_destination_edited(self, _text: str) -> None:
        self._custom_destination = True

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_succeeded(self, path: Path) -> None:
        self._end_job()
        url = path.as_uri() if path.is_dir() else path.parent.as_uri()
        self._set_status(
            f"Exported {self.progress.value()} frames to <b>{html.escape(str(path))}</b> "
            f"(<a href='{url}'>open folder</a>)."
        )
        self.exported.emit(path)

    def _on_failed(self, message: str) -> None:
        self._end_job()
        self._show_failure(message, dialog=True)

    def _on_cancelled(self, message: str) -> None:
        self._end_job()
        self.progress.setValue(0)
        self._set_status("Export cancelled; nothing was written and earlier exports are intact.")
        self.cancelled.emit()

    def _end_job(self) -> None:
        """Forget the job whose last signal just arrived; the dialog is usable again before callers hear of it."""
        job, self.job = self.job, None
        if job is not None:
            job.wait()  # emitting that signal was the job's last act: this returns at once
            job.deleteLater()
        self._set_running(False)

    # -- helpers ---------------------------------------------------------------------------------
    def _show_failure(self, message: str, dialog: bool) -> None:
        self._set_status(f"<span style='color:#c62828'>{html.escape(message)}</span>")
        if dialog:
            box = QMessageBox(QMessageBox.Icon.Critical, "Export failed", "The export failed.", parent=self)
            box.setInformativeText(message)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.message_box = box
        self.failed.emit(message)

    def _set_status(self, rich_text: str) -> None:
        self.status_label.setText(rich_text)
        wanted = self.sizeHint().height()
        if wanted > self.height():  # a longer message: grow rather than squeeze the form
            self.resize(self.width(), wanted)

    def _set_running(self, running: bool) -> None:
        inputs = (
            self.format_combo,
            self.destination_edit,
            self.browse_button,
            self.objects_list,
            self.grow_spin,
            self.feather_spin,
            self.range_box,
            self.bit_depth_combo,
            self.opacity_spin,
            self.video_name_edit,
            self.image_ext_combo,
            self.export_button,
        )
        for widget in inputs:
            widget.setEnabled(not running)
        self.close_button.setText("Cancel" if running else "Close")

    def _default_destination(self) -> Path:
        info = format_info(self.fmt)
        name = f"{self.project.folder.name}-{self.fmt}" + ("" if info.is_folder else info.suffixes[0])
        return self.project.folder.resolve() / "exports" / name

    def _source_image_ext(self) -> str:
        source = self.project.source_path
        if source.is_dir():
            images = list_images(source)
            if images:
                return images[0].suffix.lower()
        return ".jpg"


def _spin(lo: int, hi: int, suffix: str, tip: str, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(lo, hi)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    spin.setMinimumWidth(100)
    return spin

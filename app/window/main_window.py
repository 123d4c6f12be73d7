"""The main window: assembles the widgets around a `Studio` and connects their signals. No logic of its own
beyond enabling actions and turning the studio's reports into dialogs and status messages."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.export_dialog import ExportDialog
from app.dialogs.settings_dialog import SettingsDialog
from app.dialogs.shortcuts_dialog import ShortcutsDialog
from app.model.document import Document
from app.tools.toolbox import ToolBox
from app.view.canvas import Canvas
from app.view.frame_view import FrameView
from app.view.render import ViewMode
from app.widgets.device_status import DeviceStatus
from app.widgets.history_panel import HistoryDock
from app.widgets.objects_panel import ObjectsPanel
from app.widgets.progress_panel import ProgressPanel
from app.widgets.timeline import Timeline
from app.widgets.view_controls import ViewControls
from app.widgets.worst_frames import WorstFrames
from app.window import errors
from app.window.actions import SPECS, make_actions, shortcut_table
from app.window.controller import Studio
from app.window.qt_check import bindings_problem
from app.window.settings import AppSettings

log = logging.getLogger(__name__)
# menu entries followed by a separator
SEPARATED_AFTER = ("export", "redo", "remove_keyframe", "zoom_out", "onion", "smaller", "clear_object", "fill_missing")
VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.avi *.webm *.m4v);;All files (*)"


class MainWindow(QMainWindow):
    """See the module docstring."""

    def __init__(self, studio: Studio | None = None) -> None:
        super().__init__()
        self.studio = studio or Studio(parent=self)
        self.studio.ask = lambda title, question: errors.ask(self, title, question)
        self.studio.locate = self._locate
        self.setWindowTitle("LLB Studio")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.actions_ = make_actions(self)
        self.canvas = Canvas()
        self.frame_view = FrameView(self.canvas, self)
        self.toolbox = ToolBox(self.canvas, self)
        self.objects_panel = ObjectsPanel()
        self.timeline = Timeline()
        self.history = HistoryDock(self)
        self.progress = ProgressPanel()
        self.device_status = DeviceStatus()
        self.brush_size = QSpinBox()
        self.view_controls = ViewControls()
        self.worst_frames = WorstFrames()
        self._build_layout()
        self._build_menus()
        self._build_toolbars()
        self._connect()
        self._document_changed(None)
        self.device_status.set_device(self.studio.settings.device, self.studio.settings.precision)
        geometry = self.studio.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)

    # -- assembly --------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        dock = QDockWidget("Objects", self)
        dock.setObjectName("objects_dock")
        dock.setWidget(self.objects_panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [240], Qt.Orientation.Horizontal)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history)  # below the objects
        self.worst_dock = worst = QDockWidget("Worst frames", self)
        worst.setObjectName("worst_frames_dock")
        worst.setWidget(self.worst_frames)
        worst.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, worst)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.device_status)

    def _build_menus(self) -> None:
        menus: dict[str, QMenu] = {}
        for name, (menu, *_rest) in SPECS.items():
            if menu not in menus:
                menus[menu] = self.menuBar().addMenu(f"&{menu}")
            menus[menu].addAction(self.actions_[name])
            self.addAction(self.actions_[name])  # shortcuts work wherever the focus is
            if name == "demo":
                self.recent_menu = menus[menu].addMenu("Open &recent")
            if name in SEPARATED_AFTER:
                menus[menu].addSeparator()
        menus["View"].addSeparator()
        menus["View"].addAction(self.history.toggleViewAction())
        menus["View"].addAction(self.worst_dock.toggleViewAction())

    def _build_toolbars(self) -> None:
        a = self.actions_
        main = QToolBar("Main", self)
        main.setObjectName("main_toolbar")
        main.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("open", "save", "export", None, "undo", "redo", None, "backward", "both", "forward"):
            if name is None:
                main.addSeparator()
            else:
                main.addAction(a[name])
        for name in ("open", "save", "export", "undo", "redo"):  # icons alone; the propagate buttons keep text
            main.widgetForAction(a[name]).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        a["forward"].setIconText("Forward")
        a["backward"].setIconText("Backward")
        a["both"].setIconText("Both")
        self.addToolBar(main)
        tools = QToolBar("Tools", self)
        tools.setObjectName("tools_toolbar")
        self.tool_group = QActionGroup(self)
        for name in ("brush", "eraser", "box", "click"):
            a[name].setCheckable(True)
            self.tool_group.addAction(a[name])
            tools.addAction(a[name])
        a["brush"].setChecked(True)
        tools.addSeparator()
        tools.addWidget(QLabel(" Size "))
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(self.toolbox.radius)
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("Brush radius in image pixels ([ and ], or Ctrl + wheel)")
        tools.addWidget(self.brush_size)
        tools.addSeparator()
        for name in ("fill_holes", "clear_object", None, "fit", "zoom_in", "zoom_out"):
            if name is None:
                tools.addSeparator()
            else:
                tools.addAction(a[name])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tools)
        self.addToolBarBreak()
        view = QToolBar("View", self)
        view.setObjectName("view_toolbar")
        view.addWidget(self.view_controls)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, view)

    def _connect(self) -> None:
        a, s, tb, tl = self.actions_, self.studio, self.toolbox, self.timeline
        triggers = {
            "open": self.open_dialog,
            "open_folder": self.open_folder_dialog,
            "demo": s.open_demo,
            "save": s.save,
            "export": self.export_dialog,
            "relink": s.relink,
            "close": s.close_document,
            "quit": self.close,
            "undo": lambda: self._stack_call("undo"),
            "redo": lambda: self._stack_call("redo"),
            "remove_keyframe": self._remove_keyframe,
            "settings": self.settings_dialog,
            "fit": self.canvas.fit,
            "actual": self.canvas.actual_size,
            "zoom_in": lambda: self.canvas.zoom_by(1.25),
            "zoom_out": lambda: self.canvas.zoom_by(0.8),
            **{f"view_{m.value}": lambda _=False, m=m: self._set_view(mode=m) for m in ViewMode},
            "onion": lambda: self._set_view(onion=not self.view_controls.state().onion),
            "next_object": lambda: self._step_object(1),
            "prev_object": lambda: self._step_object(-1),
            "brush": lambda: tb.set_tool("brush"),
            "eraser": lambda: tb.set_tool("eraser"),
            "box": lambda: tb.set_tool("box"),
            "click": lambda: tb.set_tool("click"),
            "bigger": tb.bigger,
            "smaller": tb.smaller,
            "fill_holes": tb.fill_holes,
            "clear_object": tb.clear_object,
            "forward": lambda: s.propagate("forward"),
            "backward": lambda: s.propagate("backward"),
            "both": lambda: s.propagate("both"),
            "fill_missing": lambda: s.propagate(fill_missing=True),
            "cancel": s.cancel,
            "play": tl.toggle_play,
            "next_frame": lambda: tl.step(1),
            "prev_frame": lambda: tl.step(-1),
            "next_key": lambda: tl.jump_keyframe(1),
            "prev_key": lambda: tl.jump_keyframe(-1),
            "next_flag": lambda: tl.jump_flag(1),
            "prev_flag": lambda: tl.jump_flag(-1),
            "first": lambda: tl.go_to(0),
            "last": lambda: tl.go_to(10**9),
            "shortcuts": self.shortcuts_dialog,
            "about": self.about,
        }
        for name, slot in triggers.items():
            a[name].triggered.connect(slot)
        tb.brush_size_changed.connect(self.brush_size.setValue)
        self.brush_size.valueChanged.connect(tb.set_radius)
        tb.tool_changed.connect(lambda name: a[name].setChecked(True))
        tb.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        s.document_changed.connect(self._document_changed)
        s.error.connect(lambda title, text, exc: errors.show_error(self, title, text, exc))
        s.info.connect(lambda title, text: errors.show_info(self, title, text))
        s.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        s.busy_changed.connect(self._busy_changed)
        s.settings_changed.connect(self._settings_changed)
        self.frame_view.error.connect(lambda title, text, exc: errors.show_error(self, title, text, exc))
        eng = s.engine
        eng.model_state_changed.connect(self._update_actions)
        eng.model_ready.connect(self._model_ready)
        eng.model_failed.connect(self._model_failed)
        eng.busy_changed.connect(self.progress.on_busy)
        eng.status.connect(self.progress.on_status)
        eng.started.connect(self.progress.on_started)
        eng.progress.connect(self.progress.on_progress)
        eng.finished.connect(self.progress.on_finished)
        self.progress.cancel_requested.connect(s.cancel)
        self._settings_changed(s.settings)

    # -- reacting to the studio ------------------------------------------------------------------
    @property
    def document(self) -> Document | None:
        return self.studio.document

    def _document_changed(self, doc: Document | None) -> None:
        for widget in (
            self.frame_view,
            self.toolbox,
            self.objects_panel,
            self.timeline,
            self.history,
            self.worst_frames,
        ):
            widget.set_document(doc)
        if doc is not None:
            stack = doc.undo_stack
            for signal in (stack.canUndoChanged, stack.canRedoChanged, stack.undoTextChanged, stack.redoTextChanged):
                signal.connect(self._update_actions)
            doc.view.frame_changed.connect(self._update_actions)
            self.view_controls.set_state(doc.view.view_state)
            self.view_controls.changed.connect(doc.view.set_view_state)
            self.setWindowTitle(f"{doc.project.folder.name} — LLB Studio")
            self.canvas.fit()
        else:
            self.setWindowTitle("LLB Studio")
        self._update_actions()

    def _busy_changed(self, busy: bool) -> None:
        self.toolbox.set_enabled(not busy)
        self.objects_panel.set_editable(not busy)
        self.history.set_editable(not busy)
        self._update_actions()

    def _update_actions(self, *_: object) -> None:
        doc, busy = self.document, self.studio.busy
        has, idle = doc is not None, doc is not None and not busy
        self.actions_["relink"].setEnabled(idle)
        for name in ("save", "export", "close", "fit", "actual", "zoom_in", "zoom_out", "play", "onion"):
            self.actions_[name].setEnabled(has)
        for name in ("brush", "eraser", "box", "click", "fill_holes", "clear_object"):
            self.actions_[name].setEnabled(idle)
        loading = self.studio.engine.model_state == "loading"  # a failed load stays enabled: a run retries it
        for name in ("forward", "backward", "both", "fill_missing"):
            self.actions_[name].setEnabled(idle and not loading)
        for name in (*(f"view_{m.value}" for m in ViewMode), "next_object", "prev_object"):
            self.actions_[name].setEnabled(has)
        for name in ("next_frame", "prev_frame", "next_key", "prev_key", "next_flag", "prev_flag", "first", "last"):
            self.actions_[name].setEnabled(has)
        self.actions_["cancel"].setEnabled(busy)
        self.actions_["open"].setEnabled(not busy)
        self.actions_["open_folder"].setEnabled(not busy)
        self.actions_["demo"].setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        self.actions_["export"].setEnabled(idle)
        stack = doc.undo_stack if doc is not None else None
        self.actions_["undo"].setEnabled(bool(idle and stack and stack.canUndo()))
        self.actions_["redo"].setEnabled(bool(idle and stack and stack.canRedo()))
        self.actions_["undo"].setText(f"&Undo {stack.undoText()}" if stack and stack.canUndo() else "&Undo")
        self.actions_["redo"].setText(f"&Redo {stack.redoText()}" if stack and stack.canRedo() else "&Redo")
        self.actions_["remove_keyframe"].setEnabled(bool(idle and doc and doc.view.current_frame in doc.clip.keyframes))

    def _model_ready(self) -> None:
        self.device_status.set_device(self.studio.settings.device, self.studio.settings.precision)
        self.statusBar().showMessage("Model loaded: propagation is ready.", 5000)

    def _model_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"The model did not load: {message}")

    def _settings_changed(self, settings: AppSettings) -> None:
        self.device_status.set_device(settings.device, settings.precision)
        self.recent_menu.clear()
        for path in settings.recent_files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.studio.open_path(p))
        self.recent_menu.setEnabled(bool(settings.recent_files))

    # -- commands that need a dialog -------------------------------------------------------------
    def _stack_call(self, what: str) -> None:
        doc = self.document
        if doc is not None and not self.studio.busy:
            doc.cancel_edit()
            getattr(doc.undo_stack, what)()

    def _remove_keyframe(self) -> None:
        doc = self.document
        if doc is not None and not self.studio.busy and doc.view.current_frame in doc.clip.keyframes:
            doc.remove_keyframe(doc.view.current_frame)

    def open_dialog(self) -> None:
        """Pick a video file (Cancel: nothing happens)."""
        path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", VIDEO_FILTER)
        if path:
            self.studio.open_path(path)

    def open_folder_dialog(self) -> None:
        """Pick a folder of frames or a project folder (Cancel: nothing happens)."""
        path = QFileDialog.getExistingDirectory(self, "Open a folder of frames or a project folder")
        if path:
            self.studio.open_path(path)

    def _set_view(self, **changes: object) -> None:
        """Change the view (mode, onion skin) from a shortcut; the controls show it."""
        doc = self.document
        if doc is not None:
            state = dataclasses.replace(doc.view.view_state, **changes)
            self.view_controls.set_state(state)
            doc.view.set_view_state(state)

    def _step_object(self, step: int) -> None:
        """Make the next (step 1) or previous (-1) object in the list active, wrapping around."""
        doc = self.document
        if doc is None or not doc.objects:
            return
        ids = [spec.id for spec in doc.objects]
        at = ids.index(doc.view.active_object) if doc.view.active_object in ids else -step
        doc.view.set_active_object(ids[(at + step) % len(ids)])

    def _locate(self, reason: str) -> str | None:
        """Ask where a project's clip is now (a video file, else a folder of frames)."""
        if not errors.ask(self, "Clip not found", f"{reason}\n\nLocate the clip now?"):
            return None
        path, _ = QFileDialog.getOpenFileName(self, "Where is the clip?", "", VIDEO_FILTER)
        return path or QFileDialog.getExistingDirectory(self, "Or the folder of frames") or None

    def export_dialog(self) -> None:
        """Save, then open the export dialog once the engine has written every pending mask."""
        doc = self.document
        if doc is None or self.studio.busy:
            return
        self.studio.save()
        self.studio.engine.after_writes(lambda: self._open_export(doc))

    def _open_export(self, doc: Document) -> None:
        if doc is not self.document:
            return
        self.export = ExportDialog(self, doc.project, doc.view.view_state)
        self.export.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export.open()

    def settings_dialog(self) -> QWidget:
        dialog = SettingsDialog(self, self.studio.settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.studio.apply_settings(dialog.result_settings()))
        dialog.open()
        return dialog

    def shortcuts_dialog(self) -> QWidget:
        dialog = ShortcutsDialog(self, shortcut_table())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def about(self) -> None:
        errors.show_info(
            self,
            "About LLB Studio",
            "LLB Studio: paint a mask on a frame, propagate it through the video with the LLB network, correct "
            "any frame and export mattes, cutouts or mask sequences.",
        )

    # -- window events ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.studio.open_path(paths[0])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.studio.busy:  # close once the run has stopped (within a frame)
            self.studio.busy_changed.connect(lambda busy: busy or QTimer.singleShot(0, self.close))
            self.studio.cancel()
            event.ignore()
            return
        self.studio.qsettings.setValue("window/geometry", self.saveGeometry())
        self.studio.shutdown()
        event.accept()


def _excepthook(kind: type[BaseException], value: BaseException, tb: object) -> None:
    """Unexpected errors: logged with the traceback and shown; the app keeps running."""
    log.error("unexpected error", exc_info=(kind, value, tb))  # type: ignore[arg-type]
    window = next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)
    errors.show_error(
        window,
        "Unexpected error",
        f"{kind.__name__}: {value}\n\nYour masks are saved in the project folder as you work. Please report this "
        "with the log.",
    )


def open_window(path: str | None = None, demo: bool = False) -> MainWindow:
    """Show the main window now; once the event loop runs, open `path` or the demo, then load the model in the
    engine thread (torch is first imported there, so nothing of it delays the window)."""
    window = MainWindow()
    window.show()
    problem = bindings_problem()
    if problem is not None:
        log.error("%s", problem)
        QTimer.singleShot(0, lambda: errors.show_error(window, "Broken Qt bindings", problem))

    def start() -> None:
        if demo:
            window.studio.open_demo()
        elif path:
            window.studio.open_path(Path(path))
        window.studio.engine.preload()

    QTimer.singleShot(0, start)
    return window


def launch(path: str | None = None, demo: bool = False) -> int:
    """Run the app: open `path` (a video, a folder of frames or a project) or the demo; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("LLB")
    app.setApplicationName("LLB Studio")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.excepthook = _excepthook
    window = open_window(path, demo)  # noqa: F841 - kept alive by the event loop below
    return int(app.exec())


__all__ = ["MainWindow", "launch", "open_window"]

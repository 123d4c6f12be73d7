"""The Qt-side model of the open project: the document (edit buffer, undo, objects, runs, saving), the view
model, review flags, undo steps. No widgets.
"""

"""The main window and what assembles it: the action table, the controller (open, save, relink), error dialogs,
settings, start-up checks, screenshots.
"""

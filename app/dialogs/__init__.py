"""Dialogs: preferences, keyboard shortcuts, export."""

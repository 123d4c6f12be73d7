"""The engine thread: the GUI's handle on it and the worker that owns the model, the session of each run and
every mask-file write.
"""

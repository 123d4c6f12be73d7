"""LLB Studio, the desktop app (PySide6). Depends on `llb_core`; nothing in `llb_core` imports this package."""

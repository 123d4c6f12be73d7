"""Click to segment: one frame's object mask from positive/negative clicks, a box and the previous mask.

from llb_core.interactive import ClickSession, Click, load_click_model
session = ClickSession(load_click_model(), frame)      # the frame's features, computed once
mask = session.predict([Click(120, 80)])               # (H, W) bool; each call refines the last
"""

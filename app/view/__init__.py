"""Showing a frame: compositing (render), the canvas widget and the frame view around it, image conversion,
icons.
"""

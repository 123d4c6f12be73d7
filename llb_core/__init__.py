"""LLB Studio core: the LLB network, inference, I/O, training and evaluation (no Qt)."""

__version__ = "0.1.0"

"""Dark axion portal explorer: pure physics computations (no Panel/HoloViews imports here)."""

__version__ = "0.1.0"

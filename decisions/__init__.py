"""decisions: an engine for China's major administrative decision procedure (重大行政决策程序)."""

__version__ = "0.1.0"

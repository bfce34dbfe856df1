"""distilbench: measure what a distilled model gives up against its teacher, and what it saves."""

__version__ = "0.1.0"

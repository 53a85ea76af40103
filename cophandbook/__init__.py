"""cophandbook: the handbook of a community of practice as a static site."""

__version__ = "0.1.0"

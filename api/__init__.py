"""kinlink sub-package."""

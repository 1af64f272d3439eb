"""referendum_core package."""

"""`rescue-nearby`: the command-line client of the Rescue Nearby API (installed by pyproject)."""

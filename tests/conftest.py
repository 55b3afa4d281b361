"""Test configuration: CI runs the property tests derandomized, so a run is repeatable."""

import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))  # tests import programs.py and reference.py

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

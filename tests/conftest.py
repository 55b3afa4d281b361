"""Test configuration: CI runs the property tests derandomized, so a run is repeatable.

The gradient cache goes to a temporary directory of this session (set in the
environment, so subprocesses use it too), never to the user's real cache.
SYMBACK_TEST_CACHE_DIR names another one, e.g. to run the suite twice over a
warm cache.
"""

import atexit
import os
import shutil
import sys
import tempfile

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))  # tests import programs.py and reference.py

if os.environ.get("SYMBACK_TEST_CACHE_DIR"):
    os.environ["SYMBACK_CACHE_DIR"] = os.environ["SYMBACK_TEST_CACHE_DIR"]
else:
    _CACHE = tempfile.mkdtemp(prefix="symback-test-cache-")
    os.environ["SYMBACK_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ.pop("SYMBACK_NO_CACHE", None)  # the suite runs with the cache on: every later grad() of a function is a hit

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

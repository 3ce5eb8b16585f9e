"""Counts of bad inputs tried and faults injected, printed at the end of the test run."""

from collections import Counter

COUNTS: Counter = Counter()

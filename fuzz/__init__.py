"""Fuzzing of BlackBull's sans-I/O protocol cores.

:mod:`fuzz.targets` holds one entry point per input surface (bytes in, nothing out;
an exception escaping it is a finding). ``python -m fuzz --seconds N`` runs each under
atheris (coverage-guided libFuzzer); ``tests/fuzz`` runs short budgets of the same
targets, the hypothesis property tests, and replays every saved finding.
"""

"""The sample spreadsheets (written by make_samples.py): offered on the import page, imported by the tests."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent

"""Synthetic field data with ground truth: a world of separated children and their records.

Public API::

    records, truth = generate(seed=7, children=2000)     # pandas DataFrames of strings
    write_dataset("out/", seed=7, children=2000)          # records.csv + truth.csv

See README.md in this folder for what is modelled, what is not, and the noise parameters.
"""

from kinlink.datasets.synthetic.cultures import CULTURE_IDS, load_cultures
from kinlink.datasets.synthetic.generate import TRUTH_COLUMNS, Dataset, generate, simulate
from kinlink.datasets.synthetic.params import NoiseParams, WorldParams
from kinlink.datasets.synthetic.writer import RECORDS_FILE, TRUTH_FILE, write_csv, write_dataset

__all__ = [
    "CULTURE_IDS",
    "RECORDS_FILE",
    "TRUTH_COLUMNS",
    "TRUTH_FILE",
    "Dataset",
    "NoiseParams",
    "WorldParams",
    "generate",
    "load_cultures",
    "simulate",
    "write_csv",
    "write_dataset",
]

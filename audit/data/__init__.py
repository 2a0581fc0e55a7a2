"""Data: loading data sets by spec, the audit pool and test split, input normalisation, the
keep matrix, and the query variants the models are asked about.

- :mod:`~audit.data.arrays`: :class:`ArrayDataset` (in-memory arrays and their fingerprint).
- :mod:`~audit.data.sources`: :func:`load_dataset` by spec (digits, torchvision, image folders).
- :mod:`~audit.data.tabular`: ``npz:`` and ``csv:`` files.
- :mod:`~audit.data.split`: :class:`AuditSplit`, :func:`split_pool`, :class:`Normalisation`.
- :mod:`~audit.data.keep`: :func:`make_keep_matrix`, :func:`make_audit_coins`.
- :mod:`~audit.data.canaries`: :func:`plant_canaries` (mislabelled or out-of-distribution).
- :mod:`~audit.data.queries`: query variants (flips, shifts) of each candidate.
"""

from audit.data.arrays import ArrayDataset, load_digits_dataset
from audit.data.canaries import CANARY_KINDS, check_canaries, plant_canaries
from audit.data.keep import make_audit_coins, make_keep_matrix
from audit.data.queries import QUERY_SETS, query_variants
from audit.data.sources import available_datasets, load_dataset
from audit.data.split import AuditSplit, Normalisation, make_split, split_pool

__all__ = [
    "CANARY_KINDS",
    "QUERY_SETS",
    "ArrayDataset",
    "AuditSplit",
    "Normalisation",
    "available_datasets",
    "check_canaries",
    "load_dataset",
    "load_digits_dataset",
    "make_audit_coins",
    "make_keep_matrix",
    "make_split",
    "plant_canaries",
    "query_variants",
    "split_pool",
]

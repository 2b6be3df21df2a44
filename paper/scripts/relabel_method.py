"""Rename a method in committed (compact or raw) bench results, without touching any number.

Used when a method's name comes to mean something else: ``gp-bo`` gained curve stopping
(issue 18), so the cells that ran the GP without stopping are relabelled ``gp-bo-nostop``::

    python paper/scripts/relabel_method.py gp-bo gp-bo-nostop runs/reference/full/headline \\
        runs/reference/full/full_fidelity_bo runs/reference/smoke/headline

A variant keeps its suffix (``gp-bo:full`` becomes ``gp-bo-nostop:full``, and its cell key
``gp-bo-full__...`` becomes ``gp-bo-nostop-full__...``). CSV files (also
gzipped) get their ``method`` column renamed; JSON files get every string equal to a renamed
method, and every key or string that starts with ``<method>__`` (a cell key), renamed, except
inside ``versions`` (package versions: the package ``hyperpilot`` is not the method).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from hyperpilot.bench.grid import file_safe
from hyperpilot.methods import VARIANTS


def rename(value: str, old: str, new: str) -> str:
    """``value`` with the method ``old`` (or ``old:<variant>``, or a cell key) renamed.

    A cell key spells ``old:<variant>`` as ``old-<variant>__...`` (the bench's file-name rule),
    so those keys are matched variant by variant (``gp-bo-full__`` is ``gp-bo:full``'s cell,
    ``gp-bo-nostop__`` is another method's), and get ``new`` in the same spelling
    (``hyperpilot@transfer:global``'s cells are ``hyperpilot@transfer-global__...``).
    """
    if value == old or value.startswith(old + ":"):
        return new + value[len(old):]
    key_old, key_new = file_safe(old), file_safe(new)
    if value.startswith(key_old + "__"):
        return key_new + value[len(key_old):]
    for variant in VARIANTS:
        if variant and value.startswith(f"{key_old}-{variant}__"):
            return key_new + value[len(key_old):]
    return value


def _walk(obj: Any, old: str, new: str) -> Any:
    if isinstance(obj, dict):  # "versions" maps package names (the hyperpilot package) to versions
        return {rename(k, old, new) if isinstance(k, str) else k:
                v if k == "versions" else _walk(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_walk(v, old, new) for v in obj]
    return rename(obj, old, new) if isinstance(obj, str) else obj


def relabel_folder(folder: Path, old: str, new: str) -> int:
    """Rename ``old`` in every CSV/JSON file under ``folder``; returns the files changed."""
    changed = 0
    for path in sorted(folder.rglob("*")):
        if path.name.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path, keep_default_na=False, dtype=str)
            if "method" not in df.columns:
                continue
            renamed = df["method"].map(lambda m: rename(m, old, new))
            if not renamed.equals(df["method"]):
                df["method"] = renamed
                df.to_csv(path, index=False)
                changed += 1
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            out = _walk(data, old, new)
            if out != data:
                path.write_text(json.dumps(out, indent=2) + "\n")
                changed += 1
    return changed


def main() -> None:
    old, new, *folders = sys.argv[1:]
    for f in folders:
        print(f"{f}: {relabel_folder(Path(f), old, new)} files relabelled {old} -> {new}")


if __name__ == "__main__":
    main()

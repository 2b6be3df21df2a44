"""paper/scripts/relabel_method.py: a method's name changes, nothing else does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "paper" / "scripts"))

from relabel_method import relabel_folder, rename  # noqa: E402


def test_rename_matches_the_method_its_variants_and_cell_keys_only() -> None:
    assert rename("gp-bo", "gp-bo", "gp-bo-nostop") == "gp-bo-nostop"
    assert rename("gp-bo:full", "gp-bo", "gp-bo-nostop") == "gp-bo-nostop:full"
    assert rename("gp-bo__hartmann6__s0", "gp-bo", "x") == "x__hartmann6__s0"
    assert rename("gp-bo-full__branin__s1", "gp-bo", "x") == "x-full__branin__s1"
    # a name with a variant, either side: cell keys spell it as the bench does
    assert rename("t__b__s0", "t", "t:global") == "t-global__b__s0"
    assert rename("t-local__b__s0", "t:local", "t") == "t__b__s0"
    assert rename("t:local", "t:local", "t") == "t"
    for other in ("gp-bo-nostop", "gp-bo-capped__hartmann6__s0", "gp-bo@gp-warp", "hyperpilot"):
        assert rename(other, "gp-bo", "x") == other


def test_relabel_folder_keeps_every_number(tmp_path: Path) -> None:
    pd.DataFrame({"method": ["gp-bo", "random", "gp-bo:full"], "value": ["0.1234567891", "", "2"]}
                 ).to_csv(tmp_path / "cells.csv", index=False)
    (tmp_path / "meta.json").write_text(json.dumps(
        {"config": {"methods": ["gp-bo", "random"]}, "cells": {"gp-bo__b__s0": {"x": 1.5}},
         "versions": {"gp-bo": "1.0"}}))
    assert relabel_folder(tmp_path, "gp-bo", "gp-bo-nostop") == 2
    df = pd.read_csv(tmp_path / "cells.csv", keep_default_na=False, dtype=str)
    assert df["method"].tolist() == ["gp-bo-nostop", "random", "gp-bo-nostop:full"]
    assert df["value"].tolist() == ["0.1234567891", "", "2"]
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta == {"config": {"methods": ["gp-bo-nostop", "random"]},
                    "cells": {"gp-bo-nostop__b__s0": {"x": 1.5}},
                    "versions": {"gp-bo": "1.0"}}  # a package name, not the method


def test_rl_tuning_labels_name_what_ran() -> None:
    from rl_tuning import parse_labels  # paper/scripts/rl_tuning.py (on sys.path above)

    assert parse_labels(["hyperpilot=hyperpilot@laplace-warp", " a:race = b:race "]) == {
        "hyperpilot": "hyperpilot@laplace-warp", "a:race": "b:race"}
    assert parse_labels([]) == {}
    for bad in ("hyperpilot", "=x", "x=", "x= "):
        with pytest.raises(ValueError, match="OLD=NEW"):
            parse_labels([bad])

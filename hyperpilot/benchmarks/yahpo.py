"""What YAHPO Gym's ONNX surrogates share, called with onnxruntime alone (no yahpo-gym).

Each scenario is a folder ``<data_dir>/yahpo_data/<scenario>/`` with ``model.onnx`` (inputs
``x_cat`` int32 and ``x_cont`` float32, one output), ``encoding.json`` (the integer code of every
categorical value, ``"#na#"`` -> 0 for a missing one) and ``config_space.json`` (ConfigSpace
0.4 JSON). yahpo-gym itself pins ConfigSpace<=0.6.1 and numpy<2, which is why we do not use it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

NA = "#na#"
"""``encoding.json``'s code for a missing categorical value (not a task or a choice)."""


def scenario_folder(data_dir: str | Path, scenario: str, label: str) -> Path:
    """``<data_dir>/yahpo_data/<scenario>``, checked to hold ``model.onnx``.

    Raises:
        FileNotFoundError: when the surrogate is missing; the message says how to point to it.
    """
    folder = Path(data_dir) / "yahpo_data" / scenario
    if not (folder / "model.onnx").is_file():
        raise FileNotFoundError(f"{label} surrogate not found at {folder / 'model.onnx'}: "
                                "pass --data-dir or set HYPERPILOT_DATA to the shared data folder")
    return folder


def read_encoding(folder: Path) -> dict[str, dict[str, int]]:
    """``encoding.json``: per categorical input, value (as a string) -> integer code."""
    raw = json.loads((folder / "encoding.json").read_text())
    return {str(k): {str(v): int(c) for v, c in codes.items()} for k, codes in raw.items()}


@functools.lru_cache(maxsize=4)
def onnx_session(model_path: str) -> Any:
    """One onnxruntime session per model file and process, on one intra-op thread."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])

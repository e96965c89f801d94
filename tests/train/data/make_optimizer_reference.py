"""Write optimizer_reference.json: the optimizer_cases problem trained with TensorFlow's TF1 optimizers.

Run with a TensorFlow environment (not a gpugraph dependency):
    python tests/train/data/make_optimizer_reference.py            # every case
    python tests/train/data/make_optimizer_reference.py --missing  # only cases the file lacks; others kept
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from optimizer_cases import CASES, make_data, train  # noqa: E402

tf.disable_v2_behavior()  # TF1 graph mode with ref variables, as tf.train's optimizers were written for


def main() -> None:
    data = make_data()
    path = HERE / "optimizer_reference.json"
    results: dict = {}
    if "--missing" in sys.argv[1:]:
        old = json.loads(path.read_text(encoding="utf-8"))
        assert old["data"] == data, "the stored data differ from make_data(): regenerate every case"
        results = {name: old["cases"][name] for name in CASES if name in old["cases"]}
    results.update({name: train(tf, case, data) for name, case in CASES.items() if name not in results})
    results = {name: results[name] for name in CASES}
    out = {"tensorflow": tf.__version__, "data": data, "cases": results}
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(results)} cases)")


if __name__ == "__main__":
    main()

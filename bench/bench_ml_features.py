"""Benchmark: drop-one feature ablation on artist-grouped validation rows (which features help)."""

from __future__ import annotations

import json
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> dict:
    from ml.data import default_dataset_csv, load_labelled_tracks
    from ml.select import ablate

    result = ablate(load_labelled_tracks(default_dataset_csv()))
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = os.path.join(ROOT, "bench", "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "ml_features.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    lines = [
        f"# Feature ablation ({result['date']}, artist-grouped validation, proxy model)",
        "",
        f"All features: validation top-1 {result['all_features_val_top1']:.4f}. "
        "A feature is kept when leaving it "
        f"out costs more than {result['min_gain']:.3f}.",
        "",
        "| feature | top-1 without it | gain from keeping it |",
        "|---|---|---|",
    ]
    for name, value in sorted(result["without"].items(), key=lambda kv: kv[1]):
        lines.append(f"| {name} | {value:.4f} | {result['gain'][name]:+.4f} |")
    lines += [
        "",
        f"Proposed for dropping by the proxy: {', '.join(result['proposed_drop']) or 'none'}",
    ]
    if result["confirmation"]:
        c = result["confirmation"]
        lines.append(
            "Confirmation with the real model: "
            f"all features {c['all_features_val_top1']:.4f} vs without them "
            f"{c['reduced_val_top1']:.4f} (validation top-1)."
        )
    lines += [
        "",
        f"Keep: {', '.join(result['keep'])}",
        f"Drop: {', '.join(result['drop']) or 'none'}",
        "",
    ]
    with open(os.path.join(out, "ml_features.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()

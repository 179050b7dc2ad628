"""Print mask-step / plain-step ratios from a pytest-benchmark JSON file."""
import json
import sys

from tabulate import tabulate


def main(path: str) -> None:
    medians = {}
    for bench in json.load(open(path))["benchmarks"]:
        arch, size, kind = bench["param"].split("-")
        medians[arch, size, kind] = bench["stats"]["median"] * 1e3
    rows = []
    for (arch, size) in sorted({(a, s) for a, s, _ in medians}):
        m = {k: medians.get((arch, size, k)) for k in ("plain", "mask", "mask_k1", "noise")}
        rows.append([
            arch, size, m["plain"], m["mask"], m["noise"], m["mask"] / m["plain"],
            m["mask"] / (m["plain"] + m["noise"]),
            m["mask_k1"] / m["plain"] if m["mask_k1"] else None,
        ])
    print(tabulate(rows, floatfmt=".2f", headers=[
        "arch", "size", "plain ms", "mask ms (k=4)", "noise ms", "mask/plain",
        "mask/(plain+noise)", "mask k=1 / plain"]))


if __name__ == "__main__":
    main(sys.argv[1])

"""Import cost of modbench's light entry points (issue 23): `import modbench.stats` and
`modbench --help`, each in a fresh interpreter, best of 5, and whether torch got loaded."""
from __future__ import annotations

import subprocess
import sys

CASES = {
    "import modbench.stats": "import modbench.stats",
    "import modbench.leaderboard.tables": "import modbench.leaderboard.tables",
    "modbench --help": "import sys; sys.argv = ['modbench', '--help']\ntry:\n    import modbench.cli as c; c.main(['--help'])\nexcept SystemExit:\n    pass",
}
PROBE = "import time, sys; t = time.perf_counter()\n{body}\nprint(time.perf_counter() - t, 'torch' in sys.modules)"

for name, body in CASES.items():
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], capture_output=True, text=True).stdout
        seconds, torch_loaded = out.strip().splitlines()[-1].split()
        runs.append(float(seconds))
    print(f"{name:<36} {min(runs) * 1e3:7.0f} ms   torch loaded: {torch_loaded}")

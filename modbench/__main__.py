"""`python -m modbench`: the same command as `modbench`, for environments without the script."""
from modbench.cli import main

raise SystemExit(main())

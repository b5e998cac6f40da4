"""`python -m boneread_ml ...`: the package's one entry point (same as the `boneread-ml` script)."""

import sys

from boneread_ml.cli.main import main

sys.exit(main())

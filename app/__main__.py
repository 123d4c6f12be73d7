"""`python -m app` is `llb-studio`."""

import sys

from app.cli import main

sys.exit(main())

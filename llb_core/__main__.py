"""`python -m llb_core` runs the `llb` command line."""

from llb_core.cli import main

raise SystemExit(main())

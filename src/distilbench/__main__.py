"""`python -m distilbench`: the same as the `distilbench` command."""

import sys

from distilbench.cli import main

sys.exit(main())

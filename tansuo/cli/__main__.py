"""`python -m tansuo.cli`: the same as the `tansuo` command."""

import sys

from tansuo.cli import main

sys.exit(main())

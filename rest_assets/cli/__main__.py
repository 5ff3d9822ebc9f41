"""`python -m rest_assets.cli`: the `rest-assets` command."""

import sys

from rest_assets.cli import main

sys.exit(main())

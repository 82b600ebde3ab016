"""``python -m cancelmatch`` = the ``cancelmatch`` command."""

import sys

from server.cli import main

sys.exit(main())

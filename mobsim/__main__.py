"""``python -m mobsim``: the same as the ``mobsim`` command."""

from __future__ import annotations

import sys

from mobsim.cli import main

sys.exit(main())

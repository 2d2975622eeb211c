"""``python -m service.cli`` (how ``commentmod serve`` starts its worker and scheduler)."""

import sys

from service.cli import main

sys.exit(main())

"""How long the fuzz runs. Examples per endpoint: small enough that the whole fuzz stays
within about a minute of CI on two cores; raise it for a longer hunt, e.g.
PINGAN_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/fuzz -q"""

import os

EXAMPLES = int(os.environ.get("PINGAN_FUZZ_EXAMPLES", "10"))

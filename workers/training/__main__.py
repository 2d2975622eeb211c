"""``python -m workers.training [--data DIR] [--out DIR] [--include-nc]``: rebuild artifacts."""

from workers.training.training import main

main()

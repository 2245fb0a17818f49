"""``python -m adapters.cli``: the same as the ``kntc`` console script."""

from adapters.cli import main

main()

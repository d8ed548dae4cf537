"""``python -m gradlab``: the same as the ``gradlab`` command."""

from gradlab.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())

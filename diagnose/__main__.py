"""`python -m diagnose` entry point."""

from diagnose.cli import main

if __name__ == "__main__":
    main()

"""`python -m diagnose` entry point."""

from diagnose.entry import main

if __name__ == "__main__":
    main()

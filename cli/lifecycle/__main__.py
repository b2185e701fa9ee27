import sys

from cli.lifecycle.cli import main

sys.exit(main())

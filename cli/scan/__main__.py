import sys

from cli.scan.cli import main

sys.exit(main())

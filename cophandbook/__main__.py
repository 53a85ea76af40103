import sys

from cophandbook.cli import main

sys.exit(main())

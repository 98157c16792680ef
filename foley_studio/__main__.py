import sys

from foley_studio.cli import main

sys.exit(main())

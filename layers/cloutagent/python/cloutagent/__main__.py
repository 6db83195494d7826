import sys

from cloutagent.cli.main import main

sys.exit(main())

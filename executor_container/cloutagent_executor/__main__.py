import sys

from cloutagent_executor.main import main

sys.exit(main())

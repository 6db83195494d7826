import sys

from cloutagent_client.cli.main import main

sys.exit(main())

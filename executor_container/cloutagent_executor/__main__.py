import sys

from cloutagent import heap

heap.hold()  # until the run has begun (main.execute) or the pool is warm (pool.serve_one_claim)

from cloutagent_executor.main import main  # noqa: E402 - imported without collections

sys.exit(main())

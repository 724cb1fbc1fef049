"""moto_server, handling one request at a time.

moto's standalone server is threaded and its DynamoDB backend does not lock: two concurrent
conditional writes to one item can both pass their condition (seen here with moto 5.2.5: two
of six concurrent `attribute_not_exists` claims succeeded). DynamoDB itself applies each
single-item write atomically, and Kizuna's exactly-once logic relies on that, so the test
harness serialises requests. Arguments are moto_server's (-H HOST -p PORT).
"""

import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _one_at_a_time(self, environ, start_response):
    with _lock:
        # Materialise the body inside the lock: the backend work may happen lazily.
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _one_at_a_time
server.main(sys.argv[1:])

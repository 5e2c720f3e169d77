"""Several `bbs serve` processes on one PostgreSQL database working as one board.

`registry`: node numbers and who is on line, in the database. `bus`: messages between
the nodes over LISTEN/NOTIFY. `presence`: who is online, pages and the sysop chat
across nodes. `node`: one process's membership (start, heartbeat, resync, stop).
`reload`: a `bbs load` on one node reaching the others. SQLite boards have one node
and use none of this.
"""

from bbs.cluster.bus import CHANNEL, notify_reload

__all__ = ["CHANNEL", "notify_reload"]

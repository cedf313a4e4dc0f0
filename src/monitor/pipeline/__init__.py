"""Poll one source: listing -> triage -> pages -> rechecks -> poll (commits in batches).

:class:`Pipeline` is the one entry point; the stages are its private modules.
"""

from monitor.models import PollReport
from monitor.pipeline.poll import Pipeline, utcnow

__all__ = ["Pipeline", "PollReport", "utcnow"]

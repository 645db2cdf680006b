"""The one size limit on a file a user gives the tool: an upload (your data, a Fingertips export) or an LSOA list.

Streamlit's ``server.maxUploadSize`` (``.streamlit/config.toml``), the container's ``CORE20_MAX_UPLOAD_MB``
default (``deploy/entrypoint.py``), the upload box's own "Limit … per file" and every reader use this one number,
so what the user is told is what is enforced. Streamlit counts a megabyte as 2**20 bytes, a little more than the
readers' 10**6, so a file just over the limit still reaches the reader, which refuses it naming the file and the
limit (never Streamlit's bare "file too large").
"""

from __future__ import annotations

__all__ = ["MAX_BYTES", "MAX_UPLOAD_MB"]

#: Largest file read, in MB: a national practice-level Fingertips export of several indicators is ~10–30 MB; an
#: LSOA file for all England (~34,000 rows) under 5 MB.
MAX_UPLOAD_MB = 50
#: The same limit in bytes (MB of 10**6 bytes, as the messages say).
MAX_BYTES = MAX_UPLOAD_MB * 1_000_000

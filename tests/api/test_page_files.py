"""The page's files as the box serves them: each file the page names, with its type,
gzipped for a browser that asks, a 304 for one that has it (with nothing after the head:
aiohttp wrote an empty gzip stream there, which broke the next answer on the connection);
nothing outside the folder."""

from __future__ import annotations

import gzip
import re

from pievse.firmware.api.status_page import STATIC
from tests.conftest import BenchClient


async def test_every_file_the_page_names_is_served_gzipped_on_request(bench: BenchClient) -> None:
    html = (STATIC / "index.html").read_text()
    named = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert {"status.js", "i18n.js", "people.js", "settings.js", "status.css"} <= set(named)
    for name in ["", *named]:
        path = f"/static/{name}" if name else "/"
        async with bench.http.get(
            f"{bench.base}{path}", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
        ) as response:
            assert response.status == 200, path
            assert response.headers["Content-Encoding"] == "gzip", path
            body = gzip.decompress(await response.read())
        assert body == (STATIC / (name or "index.html")).read_bytes(), path
        again = {"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]}
        async with bench.http.get(f"{bench.base}{path}", headers=again) as response:
            assert response.status == 304, f"{path}: a reload takes it from the cache"
        async with bench.http.get(f"{bench.base}/api/status") as response:
            assert response.status == 200, "the connection after a 304 carries no stray bytes"
    for bad in ("..%2Fstatus_page.py", ".hidden.js", "nothing.js", "status_page.py"):
        async with bench.http.get(f"{bench.base}/static/{bad}") as response:
            assert response.status == 404, bad

"""The nginx edge for tracked links: nginx answers `/r/{code}` from its cache and logs the
click; the server reads that log back through the click pipeline (see docs/connect.md)."""

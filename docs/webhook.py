"""A local webhook that prints the alerts nbprod posts to it (README's tour).

    python3 docs/webhook.py [PORT]        # listens on 127.0.0.1:PORT (default 8000)
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        print(body.get("text", body), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    print(f"waiting for alerts on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()

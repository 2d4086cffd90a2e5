"""A local webhook that prints the alerts nbprod posts to it (README's tour).

    python3 docs/webhook.py [PORT] [--once]

Listens on 127.0.0.1:PORT (default 8000). With ``--once`` it exits after the first alert;
it never stays longer than ten minutes.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

LIFETIME = 600.0


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        print(body.get("text", body), flush=True)
        self.send_response(204)
        self.end_headers()
        if "--once" in sys.argv:
            threading.Thread(target=self.server.shutdown).start()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    ports = [a for a in sys.argv[1:] if a.isdigit()]
    server = HTTPServer(("127.0.0.1", int(ports[0]) if ports else 8000), Receiver)
    timer = threading.Timer(LIFETIME, server.shutdown)
    timer.daemon = True
    timer.start()
    print(f"waiting for alerts on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()
    server.server_close()

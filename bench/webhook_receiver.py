"""A webhook receiver for benchmarks: accepts every POST with 204, as fast as it can (threads,
HTTP/1.1 keep-alive), and checks nothing. Usage: python3 webhook_receiver.py PORT."""
import http.server
import sys


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # The default backlog of 5 drops the connections a burst of deliveries opens at once, and
    # each dropped one waits a second for TCP to try again.
    request_queue_size = 1024
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()

#!/usr/bin/env python3
"""Sends N GET requests one after another on one keep-alive connection (no pipelining) and
reads each response whole (Content-Length framing). Exits 1 if any status differs from the one
expected or the server closes early, so a measurement never counts errors as requests.

usage: keepalive_requests.py HOST PORT PATH COUNT EXPECTED_STATUS
"""
import socket
import sys
import time


def main() -> int:
    host, port, path, count, expected = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: instructions.sh\r\nAccept: */*\r\n\r\n".encode()
    sock = socket.create_connection((host, port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.monotonic()
    try:
        return exchange(sock, request, count, expected, started)
    except socket.timeout:
        print(f"no response within 60 s (after {time.monotonic() - started:.1f} s of this run)", file=sys.stderr)
        return 1


def exchange(sock: socket.socket, request: bytes, count: int, expected: str, started: float) -> int:
    buf = b""
    for i in range(count):
        sock.sendall(request)
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                print(f"request {i}: connection closed before a response head", file=sys.stderr)
                return 1
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ")[1].decode()
        if status != expected:
            print(f"request {i}: status {status}, expected {expected}", file=sys.stderr)
            return 1
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(buf) < length:
            chunk = sock.recv(65536)
            if not chunk:
                print(f"request {i}: connection closed inside the body", file=sys.stderr)
                return 1
            buf += chunk
        buf = buf[length:]
    sock.close()
    print(f"{count} requests in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

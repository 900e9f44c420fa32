#!/usr/bin/env python3
"""A real client's first exchange with a server, for the end-to-end tests.

greet.py HOST PORT [REQUEST]: connects over TCP, sends REQUEST (backslash
escapes such as \\r\\n are decoded) and prints the first line-ish answer;
REQUEST "dns:NAME" sends a DNS query over TCP (RFC 1035 4.2.2) for NAME's A
record and prints "rcode N answers M"; REQUEST "ftp-login:USER:PASSWORD"
logs in over FTP and prints the answer to PASS. Exit 1 when the server closes without
a word, 2 on a connection error (the tests retry until their deadline).
"""
import socket
import struct
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    request = sys.argv[3] if len(sys.argv) > 3 else ""
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.settimeout(3)
        if request.startswith("dns:"):
            name = b"".join(bytes([len(w)]) + w for w in request[4:].encode().split(b".")) + b"\0"
            q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
            s.sendall(struct.pack(">H", len(q)) + q)
            r = s.recv(4096)[2:]
            if len(r) < 8:
                return 1
            flags, answers = struct.unpack(">H", r[2:4])[0], struct.unpack(">H", r[6:8])[0]
            print(f"rcode {flags & 15} answers {answers}")
            return 0
        if request.startswith("ftp-login:"):
            # A login as an FTP client makes it: USER, PASS; prints the
            # server's answer to PASS (PAM decides it on a Debian server).
            f = s.makefile("rb")
            def reply():
                line = f.readline()
                while len(line) > 3 and line[3:4] == b"-":  # a multi-line reply
                    line = f.readline()
                return line.decode(errors="replace").strip()
            banner = reply()
            if not banner.startswith("220"):
                print(banner)
                return 0
            user, _, password = request[len("ftp-login:"):].partition(":")
            s.sendall(f"USER {user}\r\n".encode())
            reply()
            s.sendall(f"PASS {password}\r\n".encode())
            print(reply())
            return 0
        if request:
            s.sendall(request.encode().decode("unicode_escape").encode())
        data = s.recv(200)
    except OSError:
        return 2
    if not data:
        return 1
    print(data.decode(errors="replace").strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())

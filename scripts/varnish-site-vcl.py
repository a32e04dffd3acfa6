#!/usr/bin/env python3
"""Write the site.vcl that deploy/varnish/default.vcl includes: one backend per
app server, a round-robin director "app" over them, and the ACL "purgers".

    scripts/varnish-site-vcl.py --backend 127.0.0.1:8000 [--backend ...] \
        [--purger 10.0.0.0/8 ...] [--probe /healthz --host-header www.example.com] > site.vcl

127.0.0.1 and ::1 are always allowed to purge.
"""

import argparse
import ipaddress
import sys


def backend_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected host:port, got {value!r}")
    return host.strip("[]"), int(port)


def purger(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address or network: {value!r}") from None


def render(
    backends: list[tuple[str, int]], purgers: list[str], probe: str | None, host_header: str | None
) -> str:
    out = ["# Written by scripts/varnish-site-vcl.py; included by default.vcl.", ""]
    if probe:
        out += [
            "probe app_health {",
            f'    .url = "{probe}";',
            "    .interval = 1s;",
            "    .timeout = 1s;",
            "    .window = 3;",
            "    .threshold = 2;",
            "    .initial = 2;",
            "}",
            "",
        ]
    for n, (host, port) in enumerate(backends, 1):
        out += [
            f"backend app{n} {{",
            f'    .host = "{host}";',
            f'    .port = "{port}";',
            "    .connect_timeout = 1s;",
            "    .first_byte_timeout = 30s;",
            # Probes (and fetches without a Host) need a name in ALLOWED_HOSTS.
            *([f'    .host_header = "{host_header}";'] if host_header else []),
            *(["    .probe = app_health;"] if probe else []),
            "}",
            "",
        ]
    out.append("acl purgers {")
    for net in ["127.0.0.1", "::1", *purgers]:
        addr, _, bits = net.partition("/")
        out.append(f'    "{addr}"/{bits};' if bits else f'    "{addr}";')
    out += ["}", "", "sub vcl_init {", "    new app = directors.round_robin();"]
    out += [f"    app.add_backend(app{n});" for n in range(1, len(backends) + 1)]
    out += ["}", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", type=backend_address, required=True)
    parser.add_argument("--purger", action="append", type=purger, default=[])
    parser.add_argument("--probe", help="health-check path, e.g. /healthz (default: none)")
    parser.add_argument("--host-header", help="Host for probes: a name in ALLOWED_HOSTS")
    args = parser.parse_args()
    if args.host_header and not all(c.isalnum() or c in ".-:" for c in args.host_header):
        parser.error(f"not a host name: {args.host_header!r}")
    sys.stdout.write(render(args.backend, args.purger, args.probe, args.host_header))


if __name__ == "__main__":
    main()

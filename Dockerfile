# SPDX-License-Identifier: Apache-2.0
#
# stormtrap container image.
#
#   docker build -t stormtrap .
#   docker run -p 162:162/udp -p 9163:9163 stormtrap
#
# With MIB translation (names, enumeration labels and display hints in the
# JSON line; docs/MIB.md): the image ships the standard MIB set under
# /usr/share/stormtrap/mibs, and /etc/stormtrap/mibs is the volume for the
# operator's own (vendor) MIB files:
#
#   docker run -p 162:162/udp -p 9163:9163 -v /path/to/vendor-mibs:/etc/stormtrap/mibs:ro \
#     stormtrap -c /etc/stormtrap/stormtrap.yaml \
#     -M /usr/share/stormtrap/mibs -M /etc/stormtrap/mibs -m ALL
#
# (or STORMTRAP_MIBS__DIRS=/usr/share/stormtrap/mibs,/etc/stormtrap/mibs and
# STORMTRAP_MIBS__MODULES=ALL in the environment). Without them the lines
# carry numbers only, as before.
#
# Two stages. The build stage installs the build dependencies and installs
# stormtrap into a staging directory; the runtime stage (debian:12-slim)
# gets the runtime libraries, a non-root user and the file capability to
# bind UDP 162 without root. The standard MIB set is gathered in the build
# stage by scripts/fetch-mibs (npm's net-snmp, pinned and checked against
# its SHA-256; Debian's libsnmp-base and erlang-snmp) and never committed;
# a net-snmp tarball in the build context's .mib-cache/ spares the npm
# registry (make ci puts it there). Every RUN is a script from scripts/ that CI
# runs too: scripts/install-smoke (ctest install_smoke, part of make test)
# builds with scripts/build-install, prepares the staged binary with
# scripts/runtime-setup, and runs integration tests against it.
#
# Needs nothing from an image registry but the debian:12 and debian:12-slim
# bases (no "# syntax=" line: BuildKit would fetch that frontend image), and
# nothing from npm's registry when .mib-cache/ holds net-snmp's tarball. The
# CI matrix (make ci, step container) builds it offline on a debootstrapped
# base, with that tarball, and smoke-tests it.
#
# Under Docker's default seccomp profile io_uring is not allowed; the
# collector falls back to recvmmsg and says so once at start-up.
# docs/OPERATIONS.md has the details (ports, capabilities, health check,
# reload, sysctls).

FROM debian:12 AS build
WORKDIR /src
# dependencies first, so this layer survives source changes
COPY scripts/bootstrap scripts/bootstrap
RUN ["scripts/bootstrap", "image"]
COPY . .
RUN ["env", "DESTDIR=/staging", "scripts/build-install", "/usr/local", "/tmp/build"]
RUN ["env", "ST_MIB_CACHE=/src/.mib-cache", "scripts/fetch-mibs", \
     "--install", "/staging/usr/share/stormtrap/mibs"]

FROM debian:12-slim
COPY scripts/runtime-setup /usr/local/libexec/stormtrap/runtime-setup
COPY --from=build /staging/usr/local/ /usr/local/
COPY --from=build /staging/usr/share/stormtrap/ /usr/share/stormtrap/
RUN ["/usr/local/libexec/stormtrap/runtime-setup", "/usr/local/bin/stormtrap"]
COPY examples/stormtrap.yaml /etc/stormtrap/stormtrap.yaml

# runtime-setup made this user (uid/gid 10001); numeric, so that Kubernetes'
# runAsNonRoot can check it
USER 10001:10001
WORKDIR /var/spool/stormtrap
# the Kafka spool, and the operator's MIB files (read-only is enough)
VOLUME ["/var/spool/stormtrap", "/etc/stormtrap/mibs"]

# SNMP traps and informs; the HTTP endpoints (metrics.listen in the config)
EXPOSE 162/udp 9163/tcp

# No shell or curl needed: the binary checks itself (HTTP/1.0 GET, exit 0/1).
HEALTHCHECK --interval=15s --timeout=6s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/stormtrap", "--health", "http://127.0.0.1:9163/healthz"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/stormtrap"]
CMD ["-c", "/etc/stormtrap/stormtrap.yaml"]

LABEL org.opencontainers.image.title="stormtrap" \
      org.opencontainers.image.description="SNMP trap and inform collector: SNMPv1/v2c/v3 to JSON, Kafka, files" \
      org.opencontainers.image.licenses="Apache-2.0"

# SPDX-License-Identifier: Apache-2.0
#
# stormtrap container image.
#
#   docker build -t stormtrap .
#   docker run -p 162:162/udp -p 9163:9163 stormtrap
#
# Two stages. The build stage installs the build dependencies and installs
# stormtrap into a staging directory; the runtime stage (debian:12-slim)
# gets the runtime libraries, a non-root user and the file capability to
# bind UDP 162 without root. Every RUN is a script from scripts/ that CI
# runs too: scripts/install-smoke (ctest install_smoke, part of make test)
# builds with scripts/build-install, prepares the staged binary with
# scripts/runtime-setup, and runs integration tests against it.
#
# Needs nothing from a registry but the debian:12 and debian:12-slim bases
# (no "# syntax=" line: BuildKit would fetch that frontend image). The CI
# matrix (make ci, step container) builds it offline on a debootstrapped
# base and smoke-tests it.
#
# Under Docker's default seccomp profile io_uring is not allowed; the
# collector falls back to recvmmsg and says so once at start-up.
# docs/OPERATIONS.md has the details (ports, capabilities, health check,
# reload, sysctls).

FROM debian:12 AS build
WORKDIR /src
# dependencies first, so this layer survives source changes
COPY scripts/bootstrap scripts/bootstrap
RUN ["scripts/bootstrap", "build"]
COPY . .
RUN ["env", "DESTDIR=/staging", "scripts/build-install", "/usr/local", "/tmp/build"]

FROM debian:12-slim
COPY scripts/runtime-setup /usr/local/libexec/stormtrap/runtime-setup
COPY --from=build /staging/usr/local/ /usr/local/
RUN ["/usr/local/libexec/stormtrap/runtime-setup", "/usr/local/bin/stormtrap"]
COPY examples/stormtrap.yaml /etc/stormtrap/stormtrap.yaml

# runtime-setup made this user (uid/gid 10001); numeric, so that Kubernetes'
# runAsNonRoot can check it
USER 10001:10001
WORKDIR /var/spool/stormtrap
VOLUME ["/var/spool/stormtrap"]

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

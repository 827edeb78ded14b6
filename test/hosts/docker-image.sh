#!/usr/bin/env bash
# Builds lab-testhost-docker:bookworm (test/hosts/docker/Dockerfile): Debian's docker CLI
# + docker-compose 1.29.2 (no engine of its own), prometheus-node-exporter.
# Usage: test/hosts/docker-image.sh [--force]   (env: LAB_TESTHOST_DOCKER_IMAGE)
exec bash "$(dirname "${BASH_SOURCE[0]}")/derived-image.sh" docker "${LAB_TESTHOST_DOCKER_IMAGE:-lab-testhost-docker:bookworm}" "docker.io docker-compose prometheus-node-exporter unattended-upgrades" "$@"

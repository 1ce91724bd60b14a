#!/usr/bin/env bash
# compose.yaml: the admin's client properties for the Kafka CLI tools (the broker's healthcheck and
# the kafka-acls one-shot), written in one place. Usage: admin-client.sh <file>; reads
# KAFKA_ADMIN_USER and KAFKA_ADMIN_PASSWORD. The file holds the password: owner-only.
set -euo pipefail
umask 077
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";\n' \
  "$KAFKA_ADMIN_USER" "$KAFKA_ADMIN_PASSWORD" > "$1"

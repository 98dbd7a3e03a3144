#!/usr/bin/env bash
# The main job: set up, start a broker, and walk the single-node quick start with the
# Kafka-named scripts, exactly as ../shared/seed/quickstart.txt types them (with
# --bootstrap-server in place of --zookeeper: the embedded default runs without ZooKeeper).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_SETUP:-}" ] || bash dev/setup.sh >/dev/null
export PATH="$PWD/scripts:$PWD/.venv/bin:$PATH"

PORT=${PORT:-9092}
WORK=$(mktemp -d /tmp/kafkatools-quickstart.XXXXXX)
# Stop only the broker this script started (its command line names $WORK): kafka-server-stop.sh
# would signal every broker on the machine.
stop_broker() {
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$WORK/kafka-logs"; then
      kill "${p#/proc/}" 2>/dev/null || true
    fi
  done
}
trap 'stop_broker; sleep 1; rm -rf "$WORK"' EXIT

echo "\$ kafka-server-start.sh -daemon config/server.properties   (log.dirs=$WORK/kafka-logs, port $PORT)"
LOG_DIR="$WORK/logs" kafka-server-start.sh -daemon config/server.properties \
  --override "log.dirs=$WORK/kafka-logs" --override "listeners=PLAINTEXT://127.0.0.1:$PORT"
ready=""
for _ in $(seq 1 100); do
  kafka-broker-api-versions.sh --bootstrap-server "localhost:$PORT" >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.1
done
[ -n "$ready" ] || { echo "the broker did not start; its log:" >&2; cat "$WORK"/logs/* >&2 || true; exit 1; }

set -x
kafka-topics.sh --create --bootstrap-server "localhost:$PORT" --replication-factor 1 --partition 1 --topic test
kafka-topics.sh --list --bootstrap-server "localhost:$PORT"
printf 'this is a message\nthis is another message\n' | kafka-console-producer.sh --broker-list "localhost:$PORT" --topic test
kafka-console-consumer.sh --bootstrap-server "localhost:$PORT" --topic test --from-beginning --max-messages 2
kafka-topics.sh --describe --bootstrap-server "localhost:$PORT" --topic test
set +x
echo "quick start: done"

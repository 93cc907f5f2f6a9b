# Shared by demo/run.sh and bench/run.sh (sourced, not run): start a throw-away CNCF Distribution
# registry (Debian's docker-registry) on 127.0.0.1 with its own config and storage. Needs
# REGISTRY_BIN (default /usr/bin/docker-registry) and curl. Callers stop it by the PID it reports.

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# loopback_registry_start DIR [PORT]: storage in DIR/storage, config DIR/config.yml, log
# DIR/registry.log; PORT (kept across restarts by the caller) or a free one. On success sets
# LR_PID and LR_PORT and returns 0; after 5 failed attempts returns 1.
loopback_registry_start() {
  local dir="$1" port="${2:-}" tries=0 i
  mkdir -p "$dir/storage"
  while (( tries < 5 )); do
    if [[ -z "$port" ]]; then
      port=$((20000 + RANDOM % 40000))
      port_in_use "$port" && { port=""; tries=$((tries + 1)); continue; }
    fi
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: airlock-$RANDOM$RANDOM
health:
  storagedriver:
    enabled: false
YAML
    env -u REGISTRY_HTTP_ADDR "${REGISTRY_BIN:-/usr/bin/docker-registry}" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
    LR_PID=$!
    LR_PORT=$port
    for i in $(seq 1 200); do
      if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then return 0; fi
      kill -0 "$LR_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$LR_PID" 2>/dev/null || true
    wait "$LR_PID" 2>/dev/null || true
    tries=$((tries + 1))
    port=""   # taken meanwhile, or the registry failed: try another port
  done
  return 1
}

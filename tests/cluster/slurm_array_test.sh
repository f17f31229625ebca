#!/usr/bin/env bash
# Runs the shipped Slurm job-array script on a real single-node Slurm cluster on localhost and
# checks that the merged shard results equal a local run of the same sweep.
# Needs root (it installs Debian's slurmctld, slurmd and munge and starts them); without root it
# says so and exits 0 with "skipped".
# Usage: slurm_array_test.sh FTWIN_BINARY SOURCE_DIR
set -euo pipefail
ftwin="$1"
source_dir="$2"
if [ "$(id -u)" != 0 ]; then
  echo "skipped: the Slurm test needs root to install and start slurmctld/slurmd/munge"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

work="/tmp/ftwin-slurm-test-$$"
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"  # munged runs as the munge user
host=$(hostname -s)
cleanup() {
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
  [ -f "$work/munge-run/munged.pid" ] && kill "$(cat "$work/munge-run/munged.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$work"
}
[ "${FTWIN_SLURM_KEEP:-0}" = 1 ] || trap cleanup EXIT

# munge: a private key, socket and state in $work.
mkdir -p "$work/munge" "$work/munge-run"
chown munge:munge "$work/munge" "$work/munge-run"
chmod 700 "$work/munge"
chmod 755 "$work/munge-run"  # the socket's folder must be searchable by every client
dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" status=none
chown munge:munge "$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
runuser -u munge -- /usr/sbin/munged --key-file="$work/munge/munge.key" \
  --socket="$work/munge-run/munge.socket" --pid-file="$work/munge-run/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed"

mkdir -p "$work/spool/ctld" "$work/spool/d"
cat > "$work/slurm.conf" <<CONF
ClusterName=ftwintest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge-run/munge.socket
CredType=cred/munge
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
/usr/sbin/slurmctld -i
/usr/sbin/slurmd
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed'; then break; fi
  sleep 1
done
sinfo -h -o '%T' | grep -qE 'idle|mixed' || { echo "slurm did not come up"; cat "$work"/*.log; exit 1; }

# A sweep over the default scenario, short runs.
cat > "$work/sweep.yaml" <<SWEEP
ftwin_sweep: 1
name: slurm-test
scenario: $source_dir/scenarios/building.yaml
seeds: [1, 2]
grid:
  blocks.heater.kp: [1000, 4000, 16000]
  run.duration: [12h]
SWEEP
export FTWIN="$ftwin"
timeout 300 sbatch --wait --array=0-2 --chdir="$work" "$source_dir/docs/cluster/slurm_array.sbatch" \
  "$work/sweep.yaml" "$work/results" >/dev/null
"$ftwin" merge "$work"/results/shard-* --out "$work/merged"
"$ftwin" batch "$work/sweep.yaml" --out "$work/local" --quiet
# Compare every run's KPIs and final state hash (wall time differs, of course).
/usr/bin/python3 - "$work/merged/results.jsonl" "$work/local/results.jsonl" <<'PY'
import json, sys
def rows(path):
    out = {}
    for line in open(path):
        row = json.loads(line)
        out[row["run"]] = (row["state_hash"], row["kpis"], row["params"], row["seed"])
    return out
merged, local = rows(sys.argv[1]), rows(sys.argv[2])
assert len(local) == 6, len(local)
assert merged == local, "merged Slurm results differ from the local run"
print("slurm array: %d runs merged from 3 shards equal the local run" % len(merged))
PY

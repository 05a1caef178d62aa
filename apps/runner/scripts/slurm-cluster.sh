#!/usr/bin/env bash
# A real single-node Slurm cluster for tests, from Debian's slurm-wlm and munge, run as root:
#   slurm-cluster.sh start DIR   writes DIR/slurm.conf, starts munged (as the munge user), slurmctld and
#                                slurmd with their state, spool, pid and log files under DIR, waits until
#                                the node is idle, and prints `export SLURM_CONF=DIR/slurm.conf`
#   slurm-cluster.sh stop DIR    stops exactly the daemons that `start DIR` started (by their pid files)
# DIR/log/jobcomp.log is the cluster's log of finished jobs (jobcomp/filetxt): which ran, when, how they ended.
# Each start picks two free TCP ports (slurmctld, slurmd; written into DIR/slurm.conf and DIR/ports) and
# keeps all state, spool, pid, log and munge files under DIR, so several clusters can run side by side on
# one host (two test runs at once). A start that fails stops what it had started.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
conf="$dir/slurm.conf"

stop_pid() { # name pidfile
  local pidfile="$2"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "slurm-cluster: stopped $1 (pid $pid)"
  fi
  rm -f "$pidfile"
}

if [ "$cmd" = stop ]; then
  stop_pid slurmd "$dir/slurmd.pid"
  stop_pid slurmctld "$dir/slurmctld.pid"
  stop_pid munged "$dir/munge/munged.pid"
  exit 0
fi
if [ "$cmd" != start ]; then
  echo "slurm-cluster: unknown command '$cmd' (start or stop)" >&2
  exit 2
fi

for tool in munged slurmctld slurmd sbatch sinfo; do
  if ! command -v "$tool" >/dev/null; then
    echo "slurm-cluster: $tool not found; install Debian's packages: apt-get install -y slurm-wlm munge" >&2
    exit 1
  fi
done
if [ "$(id -u)" != 0 ]; then
  echo "slurm-cluster: must run as root (munged runs as the munge user, slurmd as root)" >&2
  exit 1
fi

# a TCP port nobody listens on, with the next one free too (slurmctld takes P, slurmd P+1)
port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
pick_ports() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if port_free "$p" && port_free "$((p + 1))"; then
      echo "$p"
      return 0
    fi
  done
  echo "slurm-cluster: found no two free TCP ports between 20000 and 60000" >&2
  return 1
}

# a start that fails part-way stops the daemons it had started (only those: by this DIR's pid files)
started=0
cleanup_failed_start() {
  if [ "$started" = 1 ]; then
    stop_pid slurmd "$dir/slurmd.pid" >&2
    stop_pid slurmctld "$dir/slurmctld.pid" >&2
    stop_pid munged "$dir/munge/munged.pid" >&2
  fi
}
trap 'rc=$?; if [ "$rc" != 0 ]; then cleanup_failed_start; fi' EXIT

host="$(hostname -s)"
if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
  echo "slurm-cluster: a cluster from $dir is running already (pid $(cat "$dir/slurmctld.pid")); stop it first: $0 stop $dir" >&2
  exit 1
fi
ctld_port="$(pick_ports)"
slurmd_port=$((ctld_port + 1))
cpus="$(nproc)"
# munged refuses directories that others can write or that the munge user cannot reach
chmod 755 "$dir"
if ! runuser -u munge -- test -x "$dir"; then
  echo "slurm-cluster: the munge user cannot reach $dir; let others enter its parent folders (chmod o+x)" >&2
  exit 1
fi
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
chown munge:munge "$dir/munge"
chmod 755 "$dir/munge"
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
socket="$dir/munge/munge.socket"
started=1
runuser -u munge -- munged --socket="$socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"

cat >"$conf" <<CONF
ClusterName=distillci
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=600
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
echo "slurmctld=$ctld_port slurmd=$slurmd_port" >"$dir/ports"

slurmctld -f "$conf"
slurmd -f "$conf"
export SLURM_CONF="$conf"
for _ in $(seq 1 60); do
  state="$(sinfo -h -o %T 2>/dev/null || true)"
  if [ "$state" = idle ]; then
    started=0
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-cluster: the node did not become idle in 30 s (state '${state:-none}'); see $dir/log" >&2
exit 1

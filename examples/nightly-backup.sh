#!/bin/sh
# The nightly job for one disk, for cron: a fresh snapshot, a backup of it (waited for, after which
# the snapshot is deleted), then retention: 7 daily, 4 weekly and 6 monthly backups are kept of those
# this job made (named nightly-*); older ones go, and so do snapshots vbs left behind. Run again the
# same night, it makes no second backup and prunes again. Results go to a log; failures also to
# stderr (cron mails them) and to the exit status, which is vbs's.
#
#   nightly-backup.sh VOLUME_ID [LOG_FILE]      (default log: ~/vbs-backup.log)
#
# Credentials come from the profile that vbs would use for the user whose crontab runs it: the one
# that VBS_PROFILE names, else the profile file's default.
set -u
volume=$1
log=${2:-$HOME/vbs-backup.log}
name="nightly-$(date -u +%Y%m%d)"

# What an exit code of vbs means for STEP (see the README's exit codes).
problem() {
    case $2 in
        1)   if [ "$1" = prune ]; then echo "some old backups could not be deleted; they stay and hold quota"
             else echo "refused by the service: a full quota, or a backup of the disk still running"; fi ;;
        2)   echo "bad command line or input: fix the cron entry" ;;
        3)   echo "configuration problem: check the profile file" ;;
        4)   echo "credentials refused: renew the token or check the keys" ;;
        5)   echo "service unavailable or unreachable after retries: it runs again tomorrow" ;;
        6)   echo "the service reports the snapshot or backup failed: see 'vbs backup list --volume-id $volume --name $name'" ;;
        7)   echo "still running after 2 hours: check later with 'vbs backup list --volume-id $volume --name $name'" ;;
        70)  echo "a bug in vbs: run the command again with --debug and report it" ;;
        74)  echo "vbs could not write its result (a full disk?); what it did is done" ;;
        130) echo "interrupted, or a confirmation was declined" ;;
        141) echo "the result could not be passed on (closed pipe); what vbs did is done" ;;
        127) echo "vbs not found: name its directory in the crontab's PATH line" ;;
        *)   echo "unexpected exit code" ;;
    esac
}

stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# fail STEP CODE: log it, tell cron (stderr), and end with vbs's exit code.
fail() {
    echo "$(stamp) $1 FAILED($2) $volume: $(problem "$1" "$2")" >>"$log"
    echo "$1 of $volume failed (exit $2): $(problem "$1" "$2"); details in $log" >&2
    exit "$2"
}

made=$(vbs backup list --volume-id "$volume" --name "$name" --status available -f id 2>>"$log") || fail lookup $?
if [ -n "$made" ]; then
    echo "$(stamp) ok $volume: backed up earlier tonight ($made)" >>"$log"
else
    # --force: a disk backed up every night is usually attached to a running server.
    out=$(vbs -o json backup create --volume-id "$volume" --name "$name" --force --wait --wait-timeout 7200 \
          2>>"$log") || fail backup $?
    echo "$(stamp) ok $volume $(printf '%s' "$out" | tr -d '\n')" >>"$log"
fi

# Retention only after a good backup: a disk whose backups fail keeps its history.
out=$(vbs -o json backup prune --volume-id "$volume" --name-prefix nightly- \
      --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --yes 2>>"$log") || fail prune $?
echo "$(stamp) pruned $volume $(printf '%s' "$out" | tr -d '\n')" >>"$log"
